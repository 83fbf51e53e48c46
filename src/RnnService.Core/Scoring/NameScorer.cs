using RnnService.Core.Data;
using RnnService.Core.Serving;

namespace RnnService.Core.Scoring;

/// <summary>The prediction bulk scoring adds to a row: what the API answers for the same name, flattened.</summary>
/// <param name="Language">The most probable language.</param>
/// <param name="Probability">Its probability (the answer's confidence).</param>
/// <param name="Reasons">Why not to trust the answer (low_confidence, unknown_characters, unsupported_script); empty when trusted.</param>
/// <param name="PredictionSet">The languages that hold the true one with the requested coverage, most probable first.</param>
/// <param name="Top">The requested number of most probable languages with their probabilities, most probable first.</param>
public sealed record NameScore(
    string Language,
    double Probability,
    IReadOnlyList<string> Reasons,
    IReadOnlyList<string> PredictionSet,
    IReadOnlyList<RankedLanguage> Top)
{
    public bool Uncertain => Reasons.Count > 0;
}

/// <summary>
/// Scores the name of one row with one model version's <see cref="Predictor"/> (Core's "classify a name", which the
/// API answers with too), after the checks the API's validation makes on a name.
/// </summary>
/// <remarks>
/// The name is normalised once, checked, then answered through the predictor's allocation-lean entry point: a file
/// holds millions of names, and a bad one must not cost a pass of the RNN over a megabyte of text. Thread-safe.
/// </remarks>
public sealed class NameScorer
{
    /// <summary>The longest normalised name the model reads; the API's name validation has the same limit.</summary>
    public const int MaxNameLength = 50;

    private readonly Predictor predictor;
    private readonly PredictionOptions options;

    /// <param name="top">How many most probable languages <see cref="NameScore.Top"/> lists (0 for none).</param>
    /// <param name="coverage">The prediction sets' coverage; the predictor's default when null.</param>
    /// <param name="prior">The language prior; the training data's when null.</param>
    /// <exception cref="InvalidPriorException">The model cannot answer with <paramref name="prior"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The model has no prediction sets for <paramref name="coverage"/>.</exception>
    public NameScorer(Predictor predictor, int top, double? coverage = null, PriorChoice? prior = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(top);
        this.predictor = predictor ?? throw new ArgumentNullException(nameof(predictor));
        options = predictor.Options(prior, coverage);
        TopCount = Math.Min(top, predictor.Languages.Count);
    }

    public int ModelVersion => predictor.Version;
    public int TopCount { get; }

    /// <summary>Which prior answers: "data", "uniform" or "custom".</summary>
    public string Prior => options.Prior.Name;

    /// <summary>The prediction for <paramref name="name"/>, or why the name cannot be scored (then the score is null).</summary>
    public NameScore? Score(string name, out string? problem)
    {
        var normalized = NameNormalizer.Normalize(name);
        problem = normalized.Length == 0 ? "name is empty"
            : normalized.Length > MaxNameLength ? $"name is longer than {MaxNameLength} characters"
            : !NameNormalizer.HasLetter(normalized) ? "name has no letter"
            : null;
        if (problem is not null) return null;

        var languages = predictor.Languages;
        Span<double> probabilities = stackalloc double[languages.Count];
        Span<int> ranking = stackalloc int[languages.Count];
        Span<int> set = stackalloc int[languages.Count];
        var outcome = predictor.Predict(normalized, options, probabilities, ranking, set);
        var setLanguages = new string[outcome.SetSize];
        for (var i = 0; i < setLanguages.Length; i++) setLanguages[i] = languages[set[i]];
        var top = TopCount == 0 ? [] : new RankedLanguage[TopCount];
        for (var i = 0; i < top.Length; i++) top[i] = new RankedLanguage(languages[ranking[i]], probabilities[ranking[i]]);
        return new NameScore(languages[ranking[0]], outcome.Confidence, outcome.Reasons, setLanguages, top);
    }
}

/// <summary>
/// A prior written as text, for a command-line option or a query parameter: <c>data</c> (the default),
/// <c>uniform</c>, or language weights such as <c>German=2,Italian=1</c> (the API's JSON object, flattened).
/// </summary>
public static class PriorText
{
    public const string Expected = "Prior must be data, uniform or language weights such as German=2,Italian=1.";

    /// <exception cref="InvalidPriorException">The text is none of these forms.</exception>
    public static PriorChoice Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Trim() == PriorChoice.DataName) return PriorChoice.Data;
        if (text.Trim() == PriorChoice.UniformName) return PriorChoice.Uniform;
        var weights = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var entry in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = entry.Split('=', StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || parts[0].Length == 0) throw new InvalidPriorException(Expected);
            if (!double.TryParse(parts[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var weight))
            {
                throw new InvalidPriorException("A weight must be a number.", parts[0]);
            }
            if (!weights.TryAdd(parts[0], weight)) throw new InvalidPriorException("The language is given twice.", parts[0]);
        }
        return weights.Count > 0 ? PriorChoice.FromWeights(weights) : throw new InvalidPriorException(Expected);
    }
}
