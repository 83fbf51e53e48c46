using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using CsvHelper;

namespace RnnService.Core.Scoring;

/// <summary>Reads the rows of one input, one at a time, so memory stays flat whatever its size.</summary>
internal interface IBulkReader : IAsyncDisposable
{
    /// <summary>The input's columns: the CSV or TSV header, or just the name for plain lines; null for NDJSON.</summary>
    IReadOnlyList<string>? Columns { get; }

    /// <summary>How far into the input reading has come, in bytes, for progress.</summary>
    long BytesRead { get; }

    /// <summary>The next row, or null at the end of the input.</summary>
    ValueTask<BulkRow?> ReadAsync(CancellationToken cancellationToken);
}

internal static class BulkReaders
{
    /// <summary>The longest row read, in bytes: a longer one (such as an unclosed quote) stops a CSV file, and is a bad row in the line formats.</summary>
    public const int MaxRowBytes = 1 << 20;

    public static async ValueTask<IBulkReader> OpenAsync(Stream input, BulkFormat format, string nameColumn, CancellationToken cancellationToken) => format switch
    {
        BulkFormat.Csv => await TableReader.OpenAsync(input, ',', nameColumn, cancellationToken),
        BulkFormat.Tsv => await TableReader.OpenAsync(input, '\t', nameColumn, cancellationToken),
        BulkFormat.Ndjson => new NdjsonReader(input, nameColumn),
        _ => new PlainLinesReader(input),
    };
}

/// <summary>
/// CSV or TSV with a header, read by CsvHelper: RFC 4180 quoting, any line ending, a byte order mark skipped. A record
/// with malformed quoting (CsvHelper recovers and reports it) or another field count than the header becomes a bad row.
/// </summary>
internal sealed class TableReader : IBulkReader
{
    private readonly CsvReader reader;
    private readonly Queue<(long Line, CsvMalformedReason Reason)> malformed = new();
    private int nameIndex;

    private TableReader(Stream input, char separator)
    {
        reader = CsvReader.Create(input, new CsvReaderOptions
        {
            Separator = separator,
            HasHeader = true,
            TrackLineNumbers = true,
            MaxRecordSize = BulkReaders.MaxRowBytes,
            IncludeValuesInExceptions = false,              // names are personal data: keep them out of messages and logs
            OnMalformedRecord = record => malformed.Enqueue((record.LineNumber, record.Reason)),
        }, leaveOpen: true);
    }

    public IReadOnlyList<string>? Columns { get; private set; }
    public long BytesRead => reader.ByteOffset;

    public static async ValueTask<TableReader> OpenAsync(Stream input, char separator, string nameColumn, CancellationToken cancellationToken)
    {
        var table = new TableReader(input, separator);
        try
        {
            await table.reader.ReadHeaderAsync(cancellationToken);
            var headers = table.reader.Headers;
            if (headers.Count == 0) throw new BulkInputException("the input is empty: a header row naming the columns comes first");
            if (!table.reader.TryGetFieldIndex(nameColumn, out table.nameIndex))
            {
                throw new BulkInputException($"the header has no column '{nameColumn}' (it has: {string.Join(", ", headers)})", 1);
            }
            table.Columns = headers;
            return table;
        }
        catch
        {
            await table.DisposeAsync();
            throw;
        }
    }

    public async ValueTask<BulkRow?> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (!await reader.ReadAsync(cancellationToken)) return null;
        }
        catch (CsvFormatException exception)
        {
            throw new BulkInputException($"the CSV cannot be read further: {exception.Message}", exception.LineNumber);
        }
        var line = reader.LineNumber;
        var fields = new string[reader.FieldCount];
        for (var i = 0; i < fields.Length; i++) fields[i] = reader.GetString(i);
        return new BulkRow
        {
            Line = line,
            Fields = fields,
            Name = nameIndex < fields.Length ? fields[nameIndex] : null,
            Problem = Malformation(line) ?? (fields.Length != Columns!.Count ? $"malformed line: {fields.Length} fields where the header has {Columns.Count}" : null),
        };
    }

    /// <summary>The quoting problem CsvHelper reported for the record starting at <paramref name="line"/>, if any.</summary>
    private string? Malformation(long line)
    {
        while (malformed.TryPeek(out var next) && next.Line < line) malformed.Dequeue();
        if (!malformed.TryPeek(out var found) || found.Line != line) return null;
        malformed.Dequeue();
        return found.Reason switch
        {
            CsvMalformedReason.StrayQuote => "malformed line: a quote inside an unquoted field",
            CsvMalformedReason.TextAfterClosingQuote => "malformed line: text after a closing quote",
            CsvMalformedReason.UnterminatedQuote => "malformed line: a quoted field is never closed",
            _ => $"malformed line: {found.Reason}",
        };
    }

    public ValueTask DisposeAsync() => reader.DisposeAsync();
}

/// <summary>
/// Splits a stream into lines (LF or CRLF) with a pipe, counting them, so a line is the only thing held in memory; a
/// line longer than <see cref="BulkReaders.MaxRowBytes"/> is skipped to its end and reported instead of held.
/// </summary>
internal sealed class LineSplitter(Stream input) : IAsyncDisposable
{
    private static readonly byte[] ByteOrderMark = [0xEF, 0xBB, 0xBF];
    private readonly PipeReader pipe = PipeReader.Create(input, new StreamPipeReaderOptions(leaveOpen: true));

    public long LineNumber { get; private set; }
    public long BytesRead { get; private set; }

    /// <summary>The next line without its line ending (null at the end of the input), or TooLong for one that was skipped.</summary>
    public async ValueTask<(byte[]? Line, bool TooLong)> ReadLineAsync(CancellationToken cancellationToken)
    {
        var skipping = false;
        long scanned = 0;
        while (true)
        {
            var result = await pipe.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            var end = buffer.Slice(scanned).PositionOf((byte)'\n');
            if (end is null && !result.IsCompleted)
            {
                if (buffer.Length > BulkReaders.MaxRowBytes)
                {
                    // Drop what was read of an overlong line and look for its end in what follows.
                    skipping = true;
                    BytesRead += buffer.Length;
                    pipe.AdvanceTo(buffer.End);
                    scanned = 0;
                }
                else
                {
                    scanned = buffer.Length;
                    pipe.AdvanceTo(buffer.Start, buffer.End);
                }
                continue;
            }
            if (end is null && buffer.IsEmpty && !skipping)
            {
                pipe.AdvanceTo(buffer.End);
                return (null, false);
            }
            var line = end is null ? buffer : buffer.Slice(0, end.Value);
            var next = end is null ? buffer.End : buffer.GetPosition(1, end.Value);
            var bytes = skipping || line.Length > BulkReaders.MaxRowBytes ? null : WithoutLineEnding(line);
            BytesRead += buffer.Slice(0, next).Length;
            pipe.AdvanceTo(next);
            LineNumber++;
            return (bytes, bytes is null);
        }
    }

    private byte[] WithoutLineEnding(ReadOnlySequence<byte> line)
    {
        var bytes = line.ToArray().AsSpan();
        if (bytes.Length > 0 && bytes[^1] == '\r') bytes = bytes[..^1];
        if (LineNumber == 0 && bytes.StartsWith(ByteOrderMark)) bytes = bytes[ByteOrderMark.Length..];
        return bytes.ToArray();
    }

    public ValueTask DisposeAsync() => pipe.CompleteAsync();
}

/// <summary>One name per line; an empty line is an empty name (a bad row), as the line stands for one.</summary>
internal sealed class PlainLinesReader(Stream input) : IBulkReader
{
    public const string NameColumn = "name";
    private readonly LineSplitter lines = new(input);

    public IReadOnlyList<string>? Columns { get; } = [NameColumn];
    public long BytesRead => lines.BytesRead;

    public async ValueTask<BulkRow?> ReadAsync(CancellationToken cancellationToken)
    {
        var (line, tooLong) = await lines.ReadLineAsync(cancellationToken);
        if (line is null && !tooLong) return null;
        var name = line is null ? "" : Encoding.UTF8.GetString(line);
        return new BulkRow
        {
            Line = lines.LineNumber,
            Name = name,
            Fields = [name],
            Problem = tooLong ? $"line longer than {BulkReaders.MaxRowBytes} bytes" : null,
        };
    }

    public ValueTask DisposeAsync() => lines.DisposeAsync();
}

/// <summary>
/// One JSON object per line, the name in one of its string members; blank lines are skipped. A line that is not one
/// object, or lacks the name, becomes a bad row.
/// </summary>
internal sealed class NdjsonReader(Stream input, string nameMember) : IBulkReader
{
    private readonly LineSplitter lines = new(input);
    private readonly byte[] nameKey = Encoding.UTF8.GetBytes(nameMember);

    public IReadOnlyList<string>? Columns => null;
    public long BytesRead => lines.BytesRead;

    public async ValueTask<BulkRow?> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var (line, tooLong) = await lines.ReadLineAsync(cancellationToken);
            if (tooLong) return new BulkRow { Line = lines.LineNumber, RawText = "", Problem = $"line longer than {BulkReaders.MaxRowBytes} bytes" };
            if (line is null) return null;
            var leading = line.Length - line.AsSpan().TrimStart(" \t"u8).Length;
            var length = line.AsSpan(leading).TrimEnd(" \t"u8).Length;
            if (length == 0) continue;
            return Parse(lines.LineNumber, line.AsMemory(leading, length));
        }
    }

    private BulkRow Parse(long lineNumber, ReadOnlyMemory<byte> json)
    {
        string? name = null, problem = null;
        var members = 0;
        try
        {
            var reader = new Utf8JsonReader(json.Span, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return new BulkRow { Line = lineNumber, RawText = Encoding.UTF8.GetString(json.Span), Problem = "malformed line: not a JSON object" };
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                members++;
                var isName = reader.ValueTextEquals(nameKey);
                reader.Read();
                if (isName && name is null && problem is null)
                {
                    if (reader.TokenType == JsonTokenType.String) name = reader.GetString();
                    else problem = $"'{Encoding.UTF8.GetString(nameKey)}' is not a string";
                }
                reader.Skip();
            }
            if (reader.Read()) throw new JsonException("more after the object");
        }
        catch (JsonException)
        {
            return new BulkRow { Line = lineNumber, RawText = Encoding.UTF8.GetString(json.Span), Problem = "malformed line: not one valid JSON object" };
        }
        return new BulkRow
        {
            Line = lineNumber,
            Name = name,
            JsonObject = json,
            JsonHasMembers = members > 0,
            Problem = problem ?? (name is null ? $"no '{Encoding.UTF8.GetString(nameKey)}' member" : null),
        };
    }

    public ValueTask DisposeAsync() => lines.DisposeAsync();
}
