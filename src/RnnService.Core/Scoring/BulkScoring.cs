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
/// writing incrementally: at most one chunk of rows is held, whatever the size of the input, and a chunk reaches the
/// output only whole (a failure in it, such as a bad row under strict, sends none of its rows). The command line and the
/// HTTP stream endpoint both run this.
/// </summary>
/// <remarks>
/// <c>pace</c>, when given, is awaited with the number of rows of each chunk once it is sent: the caller counts them
/// against a budget and may wait before the next chunk is read.
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
        Func<int, CancellationToken, ValueTask>? pace = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentNullException.ThrowIfNull(options);
        if (!inputFormat.CanWrite(outputFormat)) throw new ArgumentException($"{inputFormat} input cannot be written as {outputFormat}.", nameof(outputFormat));

        await using var reader = await BulkReaders.OpenAsync(input, inputFormat, options.NameColumn, cancellationToken);
        using var chunk = new MemoryStream();
        using var writer = BulkWriters.Create(chunk, outputFormat, reader.Columns, scorer.TopCount, scorer.ModelVersion);
        long rows = 0, failed = 0;
        while (await reader.ReadAsync(cancellationToken) is { } row)
        {
            var problem = row.Problem;
            var score = problem is null ? scorer.Score(row.Name!, out problem) : null;
            if (problem is not null)
            {
                if (options.Strict) throw new BulkInputException($"{problem} (strict: stopped at the first bad row)", row.Line);
                failed++;
            }
            writer.WriteRow(row, score, problem);
            if (++rows % ChunkRows == 0)
            {
                await SendAsync(writer, chunk, output, cancellationToken);
                progress?.Report(new BulkProgress(rows, failed, reader.BytesRead));
                if (pace is not null) await pace(ChunkRows, cancellationToken);
            }
        }
        await SendAsync(writer, chunk, output, cancellationToken);
        progress?.Report(new BulkProgress(rows, failed, reader.BytesRead));
        if (pace is not null && rows % ChunkRows != 0) await pace((int)(rows % ChunkRows), cancellationToken);
        return new BulkSummary(rows, failed, scorer.ModelVersion);
    }

    /// <summary>Writes the chunk's rows to the output and flushes it, so a reader downstream sees every row so far.</summary>
    private static async Task SendAsync(IBulkWriter writer, MemoryStream chunk, Stream output, CancellationToken cancellationToken)
    {
        writer.Flush();
        await output.WriteAsync(chunk.GetBuffer().AsMemory(0, (int)chunk.Length), cancellationToken);
        await output.FlushAsync(cancellationToken);
        chunk.SetLength(0);
    }
}
