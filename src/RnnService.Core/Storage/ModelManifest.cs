using System.Text.Json.Serialization;
using RnnService.Core.Data;
using RnnService.Core.Model;
using RnnService.Core.Training;

namespace RnnService.Core.Storage;

/// <summary>Where a model's training data came from and how it was split.</summary>
public sealed record DataSummary(string Fingerprint, int Examples, int SplitSeed, IReadOnlyList<LanguageSplitSizes> SizesPerLanguage)
{
    /// <summary>The supplementary names it also trained on; absent when it took none (and in older manifests).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SupplementSummary? Supplement { get; init; }
}

/// <summary>Supplementary training names (see <see cref="NamesDataset.Supplement"/>): their fingerprint and count per language.</summary>
public sealed record SupplementSummary(string Fingerprint, IReadOnlyDictionary<string, int> NamesPerLanguage);

/// <summary>
/// How good a model is: headline metrics on the untouched test split; validation metrics, which model selection and
/// promotion may use; and the training history behind them.
/// </summary>
public sealed record ModelMetrics(
    EvaluationResult Test,
    EvaluationResult Validation,
    int BestEpoch,
    IReadOnlyList<EpochReport> History)
{
    /// <summary>
    /// True when <see cref="Test"/> and <see cref="Validation"/> score the answers served with the data prior
    /// (temperature and prior correction applied); false in manifests written before, which scored raw logits.
    /// </summary>
    public bool AsServed { get; init; }
}

/// <summary>
/// How common each language was when the model learned, which is what a caller's prior is measured against.
/// </summary>
/// <param name="Frequencies">Each language's share of the training names: the prior a request gets with <c>"prior": "data"</c>.</param>
/// <param name="ClassWeights">
/// Each language's weight in the training loss. A class-weighted cross-entropy fits the logits to the prior
/// frequency × weight (normalised), not to the frequencies; serving adjusts for both (see <see cref="Serving.LanguagePrior"/>).
/// </param>
public sealed record TrainingPrior(IReadOnlyDictionary<string, double> Frequencies, IReadOnlyDictionary<string, double> ClassWeights)
{
    /// <summary>
    /// Each language's share of the names the model was trained on, when that differs from <see cref="Frequencies"/>
    /// (supplementary training names); absent otherwise, and in manifests written before supplements existed.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, double>? TrainedFrequencies { get; init; }

    /// <summary>
    /// The prior of a model trained on <paramref name="trainedCounts"/> names per language with these class weights,
    /// whose data (the mix the data prior stands for) has <paramref name="dataCounts"/> per language.
    /// </summary>
    public static TrainingPrior From(IReadOnlyList<string> languages, IReadOnlyList<int> dataCounts, IReadOnlyList<int> trainedCounts, IReadOnlyList<double> classWeights)
    {
        ArgumentNullException.ThrowIfNull(languages);
        ArgumentNullException.ThrowIfNull(classWeights);
        return new TrainingPrior(Shares(languages, dataCounts), ByLanguage(languages, classWeights))
        {
            TrainedFrequencies = dataCounts.SequenceEqual(trainedCounts) ? null : Shares(languages, trainedCounts),
        };
    }

    private static Dictionary<string, double> Shares(IReadOnlyList<string> languages, IReadOnlyList<int> counts)
    {
        var total = (double)counts.Sum();
        return ByLanguage(languages, counts.Select(count => count / total).ToArray());
    }

    private static Dictionary<string, double> ByLanguage(IReadOnlyList<string> languages, IReadOnlyList<double> values) =>
        languages.Select((language, k) => (language, values[k])).ToDictionary(pair => pair.language, pair => pair.Item2, StringComparer.Ordinal);

    /// <summary>
    /// The term a prior adds to the calibrated logits: log q_k − log π'_k per language (model order), with q the
    /// caller's relative <paramref name="weights"/> (−∞ where a weight is 0) and π'_k ∝ trained frequency_k × weight_k
    /// the prior the class-weighted loss fitted the logits to. Constants are left out: softmax ignores them.
    /// </summary>
    public double[] Adjustment(IReadOnlyList<string> languages, IReadOnlyList<double> weights)
    {
        var trained = TrainedFrequencies ?? Frequencies;
        return languages.Select((language, k) => Math.Log(weights[k]) - Math.Log(trained[language] * ClassWeights[language])).ToArray();
    }

    /// <summary>The adjustment of the data prior, q = the data's frequencies (without a supplement: −log(class weight)).</summary>
    public double[] DataAdjustment(IReadOnlyList<string> languages) => Adjustment(languages, languages.Select(language => Frequencies[language]).ToArray());

    /// <summary>The adjustment of the uniform prior, every language alike.</summary>
    public double[] UniformAdjustment(IReadOnlyList<string> languages) => Adjustment(languages, languages.Select(_ => 1.0).ToArray());

    /// <summary>The priors a request can name, with their adjustments; the data prior first.</summary>
    public IReadOnlyList<(string Name, double[] Adjustment)> NamedAdjustments(IReadOnlyList<string> languages) =>
        [(DataName, DataAdjustment(languages)), (UniformName, UniformAdjustment(languages))];

    public const string DataName = "data";
    public const string UniformName = "uniform";
}

/// <summary>
/// Everything needed to rebuild and judge one model version; stored as <c>manifest.json</c> beside the weights.
/// Loading takes the architecture from here, never from today's settings.
/// </summary>
public sealed record ModelManifest
{
    /// <summary>
    /// Format 2 adds <see cref="Prior"/> and per-language prediction-set thresholds, which a prior other than the data's
    /// needs. Format 1 (no prior, one threshold for all languages) still loads and answers with the data prior.
    /// </summary>
    public const int CurrentFormat = 2;

    public const int FirstFormat = 1;

    public int Format { get; init; } = CurrentFormat;
    public int Version { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>
    /// The training job that published this version, so a job whose worker died between publishing and recording the
    /// version can still be matched with it; absent for versions trained by the <c>train</c> command (and older ones).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Guid? TrainingJob { get; init; }

    public required RnnArchitecture Architecture { get; init; }

    /// <summary>The <see cref="NameNormalizer.Scheme"/> the vocabulary was built with.</summary>
    public required string Normalization { get; init; }

    /// <summary>The known characters in input-index order (index 2 onwards; see <see cref="Data.Vocabulary"/>).</summary>
    public required string Vocabulary { get; init; }

    public required IReadOnlyList<string> Languages { get; init; }
    public required TrainingConfig Training { get; init; }
    public required DataSummary Data { get; init; }
    public required ModelMetrics Metrics { get; init; }

    /// <summary>The temperature every prediction is served with, and calibration and prediction-set figures on test.</summary>
    public required CalibrationReport Calibration { get; init; }

    /// <summary>The training frequencies and class weights (format 2; absent in format 1, so never written as null).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public TrainingPrior? Prior { get; init; }

    /// <summary>SHA-256 of the weights file, checked on every load.</summary>
    public string WeightsSha256 { get; init; } = "";
}
