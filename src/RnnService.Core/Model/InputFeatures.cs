namespace RnnService.Core.Model;

/// <summary>
/// What the RNN reads at each step, as indices of columns of [0 | U] (index 0 is a zero column, padding): the
/// symbol itself and, with n-gram buckets, the hashed bigram and trigram ending at it. U·x_t is the sum of those
/// columns, x_t being the multi-hot vector of the step's features. One definition for training and both inference paths.
/// </summary>
/// <remarks>
/// Symbols are the vocabulary's indices (1 unknown, 2.. known characters), then begin and end of name. A feature
/// without enough history (the bigram of the first symbol) is 0 and adds nothing. Buckets come from FNV-1a over the
/// symbols, a fixed function: a model's vocabulary (kept in its manifest) and bucket count fix its features.
/// </remarks>
public static class InputFeatures
{
    /// <summary>Features each step carries: the symbol, then the bigram and trigram buckets when there are buckets.</summary>
    public static int PerStep(RnnArchitecture architecture) => architecture.NgramBuckets > 0 ? 3 : 1;

    /// <summary>Steps the RNN takes over a name of <paramref name="length"/> characters.</summary>
    public static int Steps(RnnArchitecture architecture, int length) => length + (architecture.BoundaryMarks ? 2 : 0);

    /// <summary>
    /// Writes the features of the name with character indices <paramref name="chars"/> (read right to left when
    /// <paramref name="reversed"/>) into <paramref name="features"/>: <see cref="Steps"/> rows of <see cref="PerStep"/>.
    /// </summary>
    public static void Write(RnnArchitecture architecture, ReadOnlySpan<int> chars, bool reversed, Span<int> features)
    {
        var (perStep, steps, marks) = (PerStep(architecture), Steps(architecture, chars.Length), architecture.BoundaryMarks);
        var (begin, end) = (architecture.VocabularySize + 1, architecture.VocabularySize + 2);
        var firstBucket = architecture.VocabularySize + (marks ? 2 : 0) + 1;
        int previous = 0, beforePrevious = 0;
        for (var t = 0; t < steps; t++)
        {
            var i = marks ? t - 1 : t;                                           // character position of step t
            var symbol = i < 0 ? (reversed ? end : begin)
                : i >= chars.Length ? (reversed ? begin : end)
                : chars[reversed ? chars.Length - 1 - i : i];
            var row = features.Slice(t * perStep, perStep);
            row[0] = symbol;
            if (perStep == 3)
            {
                row[1] = previous == 0 ? 0 : firstBucket + Bucket(0, previous, symbol, architecture.NgramBuckets);
                row[2] = beforePrevious == 0 ? 0 : firstBucket + Bucket(beforePrevious, previous, symbol, architecture.NgramBuckets);
            }
            (beforePrevious, previous) = (previous, symbol);
        }
    }

    /// <summary>FNV-1a of (a, b, c) modulo the bucket count; a = 0 marks a bigram, which no trigram's first symbol is.</summary>
    private static int Bucket(int a, int b, int c, int buckets)
    {
        var hash = 2166136261u;
        hash = (hash ^ (uint)a) * 16777619u;
        hash = (hash ^ (uint)b) * 16777619u;
        hash = (hash ^ (uint)c) * 16777619u;
        return (int)(hash % (uint)buckets);
    }
}
