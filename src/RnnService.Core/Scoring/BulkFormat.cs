namespace RnnService.Core.Scoring;

/// <summary>The file formats bulk scoring reads and writes.</summary>
public enum BulkFormat
{
    /// <summary>Comma-separated values with a header row (RFC 4180: quotes, CRLF; a UTF-8 byte order mark is skipped).</summary>
    Csv,

    /// <summary>Tab-separated values with a header row, quoted as in CSV.</summary>
    Tsv,

    /// <summary>Newline-delimited JSON: one object per line.</summary>
    Ndjson,

    /// <summary>One name per line, no header; scored into CSV by default.</summary>
    Lines,
}

public static class BulkFormats
{
    /// <summary>The format a file name says, or null when its extension is none of ours.</summary>
    public static BulkFormat? FromPath(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".csv" => BulkFormat.Csv,
        ".tsv" or ".tab" => BulkFormat.Tsv,
        ".ndjson" or ".jsonl" => BulkFormat.Ndjson,
        ".txt" => BulkFormat.Lines,
        _ => null,
    };

    /// <summary>The format of a media type (parameters such as charset ignored), or null when it is none of ours.</summary>
    public static BulkFormat? FromMediaType(string? mediaType) => mediaType?.Split(';')[0].Trim().ToLowerInvariant() switch
    {
        "text/csv" => BulkFormat.Csv,
        "text/tab-separated-values" => BulkFormat.Tsv,
        "application/x-ndjson" or "application/jsonl" => BulkFormat.Ndjson,
        "text/plain" => BulkFormat.Lines,
        _ => null,
    };

    public static string MediaType(this BulkFormat format) => format switch
    {
        BulkFormat.Csv => "text/csv; charset=utf-8",
        BulkFormat.Tsv => "text/tab-separated-values; charset=utf-8",
        BulkFormat.Ndjson => "application/x-ndjson; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    };

    /// <summary>What a format is scored into by default: itself, except plain lines, which need columns for the answer.</summary>
    public static BulkFormat DefaultOutput(this BulkFormat input) => input == BulkFormat.Lines ? BulkFormat.Csv : input;

    /// <summary>Whether <paramref name="output"/> can hold what <paramref name="input"/> brings: NDJSON objects stay NDJSON.</summary>
    public static bool CanWrite(this BulkFormat input, BulkFormat output) =>
        output != BulkFormat.Lines && (input != BulkFormat.Ndjson || output == BulkFormat.Ndjson);
}
