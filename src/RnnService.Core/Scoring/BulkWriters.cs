using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using CsvHelper;

namespace RnnService.Core.Scoring;

/// <summary>
/// Writes scored rows, each input row's content first and the prediction after it, into an in-memory chunk that
/// <see cref="BulkScoring"/> sends on: so writing never blocks on I/O, and rows of a failed chunk are never sent.
/// </summary>
internal interface IBulkWriter : IDisposable
{
    /// <summary>One row: its input as read, then the prediction, or the error (the row's line and the problem) when there is none.</summary>
    void WriteRow(BulkRow row, NameScore? score, string? problem);

    /// <summary>Moves every row written so far into the chunk.</summary>
    void Flush();
}

/// <summary>The columns (CSV, TSV) and members (NDJSON) that scoring adds to each row, in order.</summary>
public static class ScoreColumns
{
    public const string Language = "language";
    public const string Probability = "probability";
    public const string Uncertain = "uncertain";
    public const string Reasons = "reasons";
    public const string PredictionSet = "prediction_set";
    public const string ModelVersion = "model_version";
    public const string Error = "error";

    /// <summary>Separates the items of a list in one CSV field (reasons, prediction set).</summary>
    public const char ListSeparator = '|';

    /// <summary>Probabilities are written with this many decimals: enough to rank and threshold, a third of the width of round-trip.</summary>
    public const string ProbabilityFormat = "0.######";

    /// <summary>Every added column of a CSV or TSV output with <paramref name="top"/> language/probability pairs.</summary>
    public static IReadOnlyList<string> Names(int top) =>
    [
        Language, Probability, Uncertain, Reasons, PredictionSet,
        .. Enumerable.Range(1, top).SelectMany(k => new[] { $"{Language}_{k}", $"{Probability}_{k}" }),
        ModelVersion, Error,
    ];

    /// <summary>The text of an error column: the line of the input row and what is wrong with it.</summary>
    public static string ErrorText(long line, string problem) => $"line {line}: {problem}";
}

internal static class BulkWriters
{
    public static IBulkWriter Create(Stream chunk, BulkFormat format, IReadOnlyList<string>? columns, int top, int modelVersion) => format switch
    {
        BulkFormat.Csv => new TableWriter(chunk, ',', columns!, top, modelVersion),
        BulkFormat.Tsv => new TableWriter(chunk, '\t', columns!, top, modelVersion),
        BulkFormat.Ndjson => new NdjsonWriter(chunk, columns, top, modelVersion),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Plain lines cannot hold a prediction."),
    };
}

/// <summary>CSV or TSV written by CsvHelper (RFC 4180: CRLF, quotes where needed): the input's columns, then <see cref="ScoreColumns"/>.</summary>
internal sealed class TableWriter : IBulkWriter
{
    private readonly CsvWriter writer;
    private readonly int inputColumns;
    private readonly int top;
    private readonly int modelVersion;

    public TableWriter(Stream output, char separator, IReadOnlyList<string> columns, int top, int modelVersion)
    {
        var added = ScoreColumns.Names(top);
        if (columns.FirstOrDefault(added.Contains) is { } clash)
        {
            throw new BulkInputException($"the input already has a column '{clash}', which scoring adds; rename it first", 1);
        }
        (inputColumns, this.top, this.modelVersion) = (columns.Count, top, modelVersion);
        writer = CsvWriter.Create(output, new CsvWriterOptions { Separator = separator, TrueValue = "true", FalseValue = "false" }, leaveOpen: true);
        writer.WriteHeader([.. columns, .. added]);
    }

    public void WriteRow(BulkRow row, NameScore? score, string? problem)
    {
        var fields = row.Fields ?? [];
        // A malformed row may have more or fewer fields than the header; the output keeps the header's shape.
        for (var i = 0; i < inputColumns; i++) writer.WriteField(i < fields.Count ? fields[i] : "");
        if (score is null)
        {
            for (var i = 0; i < 5 + 2 * top; i++) writer.WriteField("");
        }
        else
        {
            writer.WriteField(score.Language);
            writer.WriteField(score.Probability, ScoreColumns.ProbabilityFormat);
            writer.WriteField(score.Uncertain);
            writer.WriteField(string.Join(ScoreColumns.ListSeparator, score.Reasons));
            writer.WriteField(string.Join(ScoreColumns.ListSeparator, score.PredictionSet));
            foreach (var (language, probability) in score.Top)
            {
                writer.WriteField(language);
                writer.WriteField(probability, ScoreColumns.ProbabilityFormat);
            }
        }
        writer.WriteField(modelVersion, "");
        writer.WriteField(problem is null ? "" : ScoreColumns.ErrorText(row.Line, problem));
        writer.EndRecord();
    }

    public void Flush() => writer.Flush();

    public void Dispose() => writer.Dispose();
}

/// <summary>
/// One JSON object per line: an NDJSON input object as it was read with the prediction's members appended, a CSV or
/// TSV row as an object of its columns, or a line that was not JSON as <c>{"input": "..."}</c>, so nothing is lost.
/// </summary>
internal sealed class NdjsonWriter(Stream chunk, IReadOnlyList<string>? columns, int top, int modelVersion) : IBulkWriter
{
    // Names in UTF-8 as they are, not \u-escaped: this is a data file, never embedded in HTML.
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly ArrayBufferWriter<byte> scratch = new(1024);
    private readonly Utf8JsonWriter json = new(Stream.Null, Options);

    public void WriteRow(BulkRow row, NameScore? score, string? problem)
    {
        scratch.ResetWrittenCount();
        json.Reset(scratch);
        json.WriteStartObject();
        if (row.Fields is { } fields)
        {
            for (var i = 0; i < columns!.Count; i++) json.WriteString(columns[i], i < fields.Count ? fields[i] : "");
        }
        else if (row.RawText is { } text)
        {
            json.WriteString("input", text);
        }
        WritePrediction(row.Line, score, problem);
        json.WriteEndObject();
        json.Flush();

        if (row.Fields is null && row.RawText is null)
        {
            // The input object without its closing brace, then the prediction's members.
            chunk.Write(row.JsonObject.Span[..^1]);
            if (row.JsonHasMembers) chunk.Write(","u8);
            chunk.Write(scratch.WrittenSpan[1..]);
        }
        else
        {
            chunk.Write(scratch.WrittenSpan);
        }
        chunk.Write("\n"u8);
    }

    private void WritePrediction(long line, NameScore? score, string? problem)
    {
        if (score is not null)
        {
            json.WriteString(ScoreColumns.Language, score.Language);
            json.WriteNumber(ScoreColumns.Probability, Rounded(score.Probability));
            json.WriteBoolean(ScoreColumns.Uncertain, score.Uncertain);
            WriteStrings(ScoreColumns.Reasons, score.Reasons);
            WriteStrings("predictionSet", score.PredictionSet);
            if (top > 0)
            {
                json.WriteStartArray("top");
                foreach (var (language, probability) in score.Top)
                {
                    json.WriteStartObject();
                    json.WriteString(ScoreColumns.Language, language);
                    json.WriteNumber(ScoreColumns.Probability, Rounded(probability));
                    json.WriteEndObject();
                }
                json.WriteEndArray();
            }
        }
        json.WriteNumber("modelVersion", modelVersion);
        if (problem is not null)
        {
            json.WriteStartObject(ScoreColumns.Error);
            json.WriteNumber("line", line);
            json.WriteString("reason", problem);
            json.WriteEndObject();
        }
    }

    private void WriteStrings(string name, IReadOnlyList<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values) json.WriteStringValue(value);
        json.WriteEndArray();
    }

    private static double Rounded(double probability) => Math.Round(probability, 6);

    public void Flush()
    {
        // Every row goes straight into the chunk.
    }

    public void Dispose() => json.Dispose();
}
