namespace RnnService.Core.Scoring;

/// <summary>One input row: where it starts, its name, what was wrong with it, and what to copy to the output.</summary>
public sealed class BulkRow
{
    /// <summary>The 1-based line of the input where the row starts (a header counts as a line).</summary>
    public required long Line { get; init; }

    /// <summary>The name to score; null when the row has none (then <see cref="Problem"/> says why).</summary>
    public string? Name { get; init; }

    /// <summary>Why the row cannot be scored as read (malformed line, missing field); null when it can.</summary>
    public string? Problem { get; init; }

    /// <summary>The fields of a CSV or TSV row (one per header column, as read), or the name of a plain line.</summary>
    public IReadOnlyList<string>? Fields { get; init; }

    /// <summary>An NDJSON line as read, when it is one JSON object (<see cref="Problem"/> is null or about the name).</summary>
    public ReadOnlyMemory<byte> JsonObject { get; init; }

    /// <summary>Whether <see cref="JsonObject"/> has any member, so that another one needs a comma first.</summary>
    public bool JsonHasMembers { get; init; }

    /// <summary>An NDJSON line that is not one JSON object, as text, kept so the output loses nothing.</summary>
    public string? RawText { get; init; }
}

/// <summary>Input that cannot be scored at all, or a bad row under <c>--strict</c>: scoring stops with this message.</summary>
public sealed class BulkInputException(string message, long? line = null) : Exception(line is null ? message : $"line {line}: {message}")
{
    public long? Line { get; } = line;
}
