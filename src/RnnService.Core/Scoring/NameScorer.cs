using RnnService.Core.Data;
using RnnService.Core.Model;
using RnnService.Core.Storage;
using RnnService.Core.Training;

namespace RnnService.Core.Scoring;

/// <summary>The prediction bulk scoring adds to a row: what the API answers for the same name, flattened.</summary>
/// <param name="Language">The most probable language.</param>
/// <param name="Probability">Its calibrated probability (the answer's confidence).</param>
/// <param name="Reasons">Why not to trust the answer (low_confidence, unknown_characters, unsupported_script); empty when trusted.</param>
/// <param name="PredictionSet">The languages that hold the true one with the requested coverage, most probable first.</param>
/// <param name="Top">The requested number of most probable languages with their probabilities, most probable first.</param>
public sealed record NameScore(
    string Language,
    double Probability,
    IReadOnlyList<string> Reasons,
    IReadOnlyList<string> PredictionSet,
    IReadOnlyList<(string Language, double Probability)> Top)
{
    public bool Uncertain => Reasons.Count > 0;
}

/// <summary>
/// Scores one name with one loaded model version, as POST /api/predictions does: normalise, check, predict, rank,
/// abstention reasons, prediction set.
/// </summary>
/// <remarks>
/// The seam between bulk scoring and "classify a name": it composes the same Core pieces in the same order as the
/// API's PredictionService, and is meant to become a call into the one Core classifier that issue 12 extracts (with
/// its prior), so that bulk and single predictions can never drift apart. It holds no state but its settings, so one
/// instance serves any number of threads.
/// </remarks>
public sealed class NameScorer
{
    /// <summary>The longest normalised name the model reads; the API's name validation has the same limit.</summary>
    public const int MaxNameLength = 50;

    /// <summary>The priors a request may name. Only the training frequencies until the prior option (issue 12) lands.</summary>
    public static readonly IReadOnlyList<string> Priors = ["data"];

    private readonly LoadedModel model;
    private readonly double threshold;
    private readonly int top;

    /// <param name="top">How many most probable languages <see cref="NameScore.Top"/> lists (0 for none).</param>
    /// <param name="coverage">One of <see cref="Calibration.CoverageLevels"/>.</param>
    /// <param name="prior">One of <see cref="Priors"/>.</param>
    public NameScorer(LoadedModel model, int top, double coverage, string prior = "data")
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegative(top);
        if (!Priors.Contains(prior)) throw new ArgumentException($"Prior must be one of {string.Join(", ", Priors)}.", nameof(prior));
        this.model = model;
        this.top = Math.Min(top, model.Classifier.Languages.Count);
        threshold = model.Manifest.Calibration.PredictionSets.FirstOrDefault(level => level.Coverage == coverage)?.Threshold
            ?? throw new ArgumentException($"Coverage must be one of {string.Join(", ", Calibration.CoverageLevels)}.", nameof(coverage));
        Coverage = coverage;
    }

    public int ModelVersion => model.Manifest.Version;
    public double Coverage { get; }
    public int TopCount => top;

    /// <summary>The prediction for <paramref name="name"/>, or why the name cannot be scored (then the score is null).</summary>
    public NameScore? Score(string name, out string? problem)
    {
        var normalized = NameNormalizer.Normalize(name);
        problem = normalized.Length == 0 ? "name is empty"
            : normalized.Length > MaxNameLength ? $"name is longer than {MaxNameLength} characters"
            : !NameNormalizer.HasLetter(normalized) ? "name has no letter"
            : null;
        if (problem is not null) return null;

        var languages = model.Classifier.Languages;
        Span<double> probabilities = stackalloc double[languages.Count];
        model.Classifier.Predict(normalized, probabilities);
        Span<int> ranked = stackalloc int[languages.Count];
        Calibration.Rank(probabilities, ranked);
        var confidence = probabilities[ranked[0]];
        var reasons = Abstention.Reasons(normalized, model.Classifier.Vocabulary, confidence);
        // The fitted coverage holds for names like the training data; for another script, only every language is honest.
        var setSize = reasons.Contains(Abstention.UnsupportedScriptReason)
            ? ranked.Length
            : Calibration.PredictionSetSize(probabilities, ranked, threshold);
        var set = new string[setSize];
        for (var i = 0; i < setSize; i++) set[i] = languages[ranked[i]];
        var best = new (string, double)[top];
        for (var i = 0; i < top; i++) best[i] = (languages[ranked[i]], probabilities[ranked[i]]);
        return new NameScore(languages[ranked[0]], confidence, reasons, set, best);
    }
}
