using System.Globalization;
using RnnService.Core.Model;
using RnnService.Core.Training;

namespace RnnService.Core.Storage;

/// <summary>
/// What a manifest must hold before anything uses it: every field present, every collection of the size the architecture
/// says, every number in its range. A manifest is written by a trainer, but the folder is shared and files get edited,
/// truncated or replaced, so a wrong one must be refused with its field named, never crash the service that reads it.
/// </summary>
/// <remarks>Nulls of non-nullable fields are refused earlier, by the deserializer (<see cref="ModelStore.JsonOptions"/>).</remarks>
public static class ManifestRules
{
    /// <summary>Largest architecture the service will build: beyond these, loading alone would take seconds and gigabytes.</summary>
    public const int MaxHiddenSize = 1024, MaxVocabularySize = 4096, MaxLanguages = 256, MaxNgramBuckets = 65536;

    /// <summary>The first rule the manifest breaks, as (JSON field, what is wrong), or null when it keeps them all.</summary>
    public static (string Field, string Problem)? FirstProblem(ModelManifest manifest)
    {
        var architecture = manifest.Architecture;
        var languageCount = manifest.Languages.Count;
        var checks = new (bool Ok, string Field, string Problem)[]
        {
            (architecture.HiddenSize is >= 1 and <= MaxHiddenSize, "architecture.hiddenSize", $"must be between 1 and {MaxHiddenSize}"),
            (architecture.VocabularySize is >= 2 and <= MaxVocabularySize, "architecture.vocabularySize", $"must be between 2 and {MaxVocabularySize}"),
            (architecture.LanguageCount is >= 2 and <= MaxLanguages, "architecture.languageCount", $"must be between 2 and {MaxLanguages}"),
            (Enum.IsDefined(architecture.Precision), "architecture.precision", "is not a known precision"),
            (architecture.NgramBuckets is >= 0 and <= MaxNgramBuckets, "architecture.ngramBuckets", $"must be between 0 (off) and {MaxNgramBuckets}"),
            (manifest.Vocabulary.Length + 1 == architecture.VocabularySize && manifest.Vocabulary.Distinct().Count() == manifest.Vocabulary.Length,
                "vocabulary", "does not match the architecture (vocabularySize − 1 distinct characters)"),
            (languageCount == architecture.LanguageCount, "languages", "do not match the architecture (languageCount names)"),
            (manifest.Languages.All(language => !string.IsNullOrWhiteSpace(language)) && manifest.Languages.Distinct().Count() == languageCount,
                "languages", "must be distinct, non-empty names"),
            // Any other hex string is a checksum mismatch, reported against the weights file when they are loaded.
            (manifest.WeightsSha256.Length > 0 && manifest.WeightsSha256.All(char.IsAsciiHexDigit), "weightsSha256", "must be a SHA-256 in hex"),
            (manifest.Training.Validate().Count == 0, "training", "holds a setting outside its range"),
            (manifest.TrainingJob != Guid.Empty, "trainingJob", "must be a job id (or absent), not the empty GUID"),
            (manifest.Data.SizesPerLanguage.Count == languageCount, "data.sizesPerLanguage", "must give every language's split sizes"),
            (manifest.Data.Supplement is not { } supplement
                || (supplement.Fingerprint.Length > 0 && supplement.Fingerprint.All(char.IsAsciiHexDigit)
                    && supplement.NamesPerLanguage.All(pair => manifest.Languages.Contains(pair.Key) && pair.Value > 0)),
                "data.supplement", "must name a fingerprint in hex and a positive count per language of the model"),
        };
        foreach (var (ok, field, problem) in checks)
        {
            if (!ok) return (field, problem);
        }
        return EvaluationProblem(manifest.Metrics.Test, "metrics.test", languageCount)
            ?? EvaluationProblem(manifest.Metrics.Validation, "metrics.validation", languageCount)
            ?? CalibrationProblem(manifest.Calibration)
            ?? PriorProblem(manifest);
    }

    /// <summary>
    /// What a format-2 manifest needs for answering with a prior: a positive training frequency and class weight for
    /// each language, and a threshold in [0, 1] per language at every coverage level. A format-1 manifest answers only
    /// with the data prior and one threshold for all languages, so it needs none of this.
    /// </summary>
    private static (string, string)? PriorProblem(ModelManifest manifest)
    {
        if (manifest.Format == ModelManifest.FirstFormat) return null;
        static bool Positive(IReadOnlyDictionary<string, double> values, string language) =>
            values.TryGetValue(language, out var value) && value > 0 && double.IsFinite(value);
        if (manifest.Prior is not { } prior) return ("prior", "is missing (format 2 records the training frequencies)");
        if (!manifest.Languages.All(language => Positive(prior.Frequencies, language))) return ("prior.frequencies", "must give every language a positive share");
        if (!manifest.Languages.All(language => Positive(prior.ClassWeights, language))) return ("prior.classWeights", "must give every language a positive weight");
        if (prior.TrainedFrequencies is { } trained && !manifest.Languages.All(language => Positive(trained, language)))
        {
            return ("prior.trainedFrequencies", "must give every language a positive share (or be absent)");
        }
        foreach (var level in manifest.Calibration.PredictionSets)
        {
            var field = string.Create(CultureInfo.InvariantCulture, $"calibration.predictionSets (coverage {level.Coverage}).languages");
            if (level.Languages is not { } thresholds) return (field, "is missing (format 2 has a threshold per language)");
            if (thresholds.Count != manifest.Languages.Count || !manifest.Languages.All(language => thresholds.Count(threshold => threshold.Language == language) == 1))
            {
                return (field, "must give every language one threshold");
            }
            if (!thresholds.All(threshold => IsFraction(threshold.Threshold))) return (field, "thresholds must be between 0 and 1");
            if (!thresholds.All(threshold => threshold.Confidence is not { } confidence || IsFraction(confidence)))
            {
                return (field, "confidences must be between 0 and 1");
            }
        }
        return null;
    }

    private static (string, string)? EvaluationProblem(EvaluationResult result, string field, int languageCount)
    {
        if (result.Count < 0) return (field + ".count", "must not be negative");
        if (!IsFraction(result.Accuracy)) return (field + ".accuracy", "must be between 0 and 1");
        if (!IsFraction(result.MacroF1)) return (field + ".macroF1", "must be between 0 and 1");
        if (result.BalancedAccuracy is { } balanced && !IsFraction(balanced)) return (field + ".balancedAccuracy", "must be between 0 and 1");
        if (result.TopThreeAccuracy is { } topThree && !IsFraction(topThree)) return (field + ".topThreeAccuracy", "must be between 0 and 1");
        if (!(double.IsFinite(result.Loss) && result.Loss >= 0)) return (field + ".loss", "must be a number of at least 0");
        if (result.Languages.Count != languageCount) return (field + ".languages", "must score every language");
        if (result.ConfusionMatrix.Length != languageCount || result.ConfusionMatrix.Any(row => row.Length != languageCount))
        {
            return (field + ".confusionMatrix", "must be languages × languages");
        }
        return null;
    }

    private static (string, string)? CalibrationProblem(CalibrationReport calibration)
    {
        if (!(double.IsFinite(calibration.Temperature) && calibration.Temperature > 0)) return ("calibration.temperature", "must be a positive number");
        foreach (var coverage in Calibration.CoverageLevels)
        {
            var level = calibration.PredictionSets.FirstOrDefault(level => level.Coverage == coverage);
            var field = string.Create(CultureInfo.InvariantCulture, $"calibration.predictionSets (coverage {coverage})");
            if (level is null) return (field, "is missing");
            if (!IsFraction(level.Threshold)) return (field + ".threshold", "must be between 0 and 1");
        }
        foreach (var prior in calibration.Priors ?? [])
        {
            if (prior.Temperature is { } temperature && !(double.IsFinite(temperature) && temperature > 0))
            {
                return ($"calibration.priors ({prior.Prior}).temperature", "must be a positive number");
            }
        }
        return null;
    }

    private static bool IsFraction(double value) => value is >= 0 and <= 1;
}
