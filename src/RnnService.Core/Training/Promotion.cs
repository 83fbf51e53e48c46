using System.Globalization;
using RnnService.Core.Storage;

namespace RnnService.Core.Training;

/// <summary>
/// Whether a newly published version should replace the served one, and why: <see cref="Note"/> is one clause that reads
/// after "because" ("its validation macro-F1 0.5012 is within 0.02 of version 1's 0.5131, …"), for the job, the page and the log.
/// </summary>
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
        if (serving is null) return new PromotionDecision(true, "no model was being served");
        if (servedScore is not { } servedF1) return new PromotionDecision(false, comparedOn);
        var candidateF1 = candidate.Metrics.Validation.MacroF1;
        var promote = candidateF1 >= servedF1 - tolerance;
        var comparison = candidateF1 >= servedF1 ? "is at least" : promote ? $"is within {tolerance} of" : $"is more than {tolerance} below";
        return new PromotionDecision(promote, string.Create(CultureInfo.InvariantCulture,
            $"its validation macro-F1 {candidateF1:F4} {comparison} version {serving.Version}'s {servedF1:F4}, {comparedOn}"));
    }

    /// <summary>True when two versions were validated on the same names: the same data, split seed and fractions.</summary>
    public static bool SameValidationNames(ModelManifest candidate, ModelManifest serving) =>
        candidate.Data.Fingerprint == serving.Data.Fingerprint
        && candidate.Data.SplitSeed == serving.Data.SplitSeed
        && candidate.Training.ValidationFraction == serving.Training.ValidationFraction
        && candidate.Training.TestFraction == serving.Training.TestFraction;
}
