using System.Globalization;
using RnnService.Core.Storage;

namespace RnnService.Core.Training;

/// <summary>Whether a newly published version should replace the served one, and why, in words for the job and the log.</summary>
public sealed record PromotionDecision(bool Promote, string Note);

/// <summary>
/// The promotion rule, for the web API's training worker and the command-line trainer alike: a new model becomes
/// current unless its validation macro-F1 is more than the tolerance below the served model's, so a retraining never
/// silently makes the service worse for small languages. Scores are compared like with like: on the same validation
/// names.
/// </summary>
public static class Promotion
{
    /// <summary>How far below the served model's validation macro-F1 a new model may be and still be promoted.</summary>
    public const double DefaultTolerance = 0.02;

    /// <summary>
    /// Decides from the candidate's validation macro-F1 and <paramref name="servedScore"/>, the served model's on the
    /// same names, or null when no such score could be had (then the candidate is not promoted automatically);
    /// <paramref name="comparedOn"/> says on which names they were compared, or why they were not.
    /// </summary>
    public static PromotionDecision Decide(ModelManifest candidate, ModelManifest? serving, double tolerance, double? servedScore, string comparedOn)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        if (serving is null) return new PromotionDecision(true, "promoted: no model was being served");
        if (servedScore is not { } servedF1) return new PromotionDecision(false, $"not promoted (activate it explicitly to serve it): {comparedOn}");
        var candidateF1 = candidate.Metrics.Validation.MacroF1;
        var comparison = string.Create(CultureInfo.InvariantCulture,
            $"validation macro-F1 {candidateF1:F4} vs {servedF1:F4} of version {serving.Version}, tolerance {tolerance}; {comparedOn}");
        return candidateF1 >= servedF1 - tolerance
            ? new PromotionDecision(true, "promoted: " + comparison)
            : new PromotionDecision(false, "not promoted (activate it explicitly to serve it): " + comparison);
    }

    /// <summary>True when two versions were validated on the same names: the same data, split seed and fractions.</summary>
    public static bool SameValidationNames(ModelManifest candidate, ModelManifest serving) =>
        candidate.Data.Fingerprint == serving.Data.Fingerprint
        && candidate.Data.SplitSeed == serving.Data.SplitSeed
        && candidate.Training.ValidationFraction == serving.Training.ValidationFraction
        && candidate.Training.TestFraction == serving.Training.TestFraction;
}
