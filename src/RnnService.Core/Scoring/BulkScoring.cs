namespace RnnService.Core.Scoring;

/// <summary>How to read an input for bulk scoring.</summary>
/// <param name="NameColumn">The CSV/TSV column (matched exactly, else ignoring case) or NDJSON member holding the name.</param>
/// <param name="Strict">Stop at the first bad row (<see cref="BulkInputException"/>) instead of marking it and going on.</param>
public sealed record BulkOptions(string NameColumn = "name", bool Strict = false);

/// <summary>How far scoring has come: rows written so far, how many of them are bad, and input bytes read.</summary>
public readonly record struct BulkProgress(long Rows, long Failed, long BytesRead);

/// <summary>What a finished run did.</summary>
public sealed record BulkSummary(long Rows, long Failed, int ModelVersion);

/// <summary>
/// Scores every row of an input stream into an output stream, in input order, all with one model version, reading and
/// writing incrementally: at most one chunk of rows is held, whatever the size of the input. The command line and the
/// HTTP stream endpoint both run this.
/// </summary>
/// <remarks>
/// A bad row (an empty, too long or letterless name, a malformed line, a missing name) is written with an error
/// column (its line and the reason) and scoring goes on, unless <see cref="BulkOptions.Strict"/>. Input that cannot
/// be read at all (no such column, an unreadable CSV) throws <see cref="BulkInputException"/>.
/// </remarks>
public static class BulkScoring
{
    /// <summary>Rows between flushes of the output and progress reports.</summary>
    public const int ChunkRows = 1024;

    public static async Task<BulkSummary> ScoreAsync(
        Stream input,
        BulkFormat inputFormat,
        Stream output,
        BulkFormat outputFormat,
        NameScorer scorer,
        BulkOptions options,
        IProgress<BulkProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentNullException.ThrowIfNull(options);
        if (!inputFormat.CanWrite(outputFormat)) throw new ArgumentException($"{inputFormat} input cannot be written as {outputFormat}.", nameof(outputFormat));

        await using var reader = await BulkReaders.OpenAsync(input, inputFormat, options.NameColumn, cancellationToken);
        await using var writer = BulkWriters.Create(output, outputFormat, reader.Columns, scorer.TopCount, scorer.ModelVersion);
        long rows = 0, failed = 0;
        while (await reader.ReadAsync(cancellationToken) is { } row)
        {
            var problem = row.Problem;
            var score = problem is null ? scorer.Score(row.Name!, out problem) : null;
            if (problem is not null)
            {
                if (options.Strict) throw new BulkInputException($"{problem} (--strict stops at the first bad row)", row.Line);
                failed++;
            }
            await writer.WriteRowAsync(row, score, problem, cancellationToken);
            if (++rows % ChunkRows == 0)
            {
                await writer.FlushAsync(cancellationToken);
                progress?.Report(new BulkProgress(rows, failed, reader.BytesRead));
            }
        }
        await writer.FlushAsync(cancellationToken);
        progress?.Report(new BulkProgress(rows, failed, reader.BytesRead));
        return new BulkSummary(rows, failed, scorer.ModelVersion);
    }
}
