using RnnService.Core.Data;
using RnnService.Core.Model;
using RnnService.Core.Storage;
using RnnService.Core.Training;

namespace RnnService.Core.Serving;

/// <summary>How a caller wants names answered: with which prior, at which prediction-set coverage, how many languages.</summary>
/// <remarks>
/// Made by <see cref="Predictor.Options"/>, which checks them against that predictor's model.
/// A struct, so that a request's options cost no allocation on the hot path.
/// </remarks>
public readonly struct PredictionOptions
{
    internal PredictionOptions(LanguagePrior prior, PredictionSetThresholds set, int? top) => (Prior, Set, Top) = (prior, set, top);

    /// <summary>Null only for a default instance, which no predictor accepts.</summary>
    public LanguagePrior Prior { get; }
    public double Coverage => Set.Coverage;

    /// <summary>How many of the most probable languages an answer lists; all when null.</summary>
    public int? Top { get; }

    internal PredictionSetThresholds Set { get; }
}

/// <summary>A language and the probability an answer gives it.</summary>
public readonly record struct RankedLanguage(string Language, double Probability);

/// <summary>One name's answer, for callers that keep it (bulk scoring); <see cref="Predictor.Predict(string, PredictionOptions, Span{double}, Span{int}, Span{int})"/> is the allocation-lean form.</summary>
/// <param name="Languages">The most probable languages first, as many as the options' top.</param>
/// <param name="PredictionSet">The languages that hold the true one with <see cref="Coverage"/>, most probable first.</param>
/// <param name="Reasons">Why not to trust the answer (<see cref="Abstention"/>); empty when there is no reason.</param>
/// <param name="Prior">Which prior answered: "data", "uniform" or "custom".</param>
public sealed record Prediction(
    string Name,
    string NormalizedName,
    IReadOnlyList<RankedLanguage> Languages,
    double Confidence,
    IReadOnlyList<string> Reasons,
    IReadOnlyList<string> PredictionSet,
    double Coverage,
    bool Transliterated,
    string Prior)
{
    public bool Uncertain => Reasons.Count > 0;
}

/// <summary>What <see cref="Predictor.Predict(string, PredictionOptions, Span{double}, Span{int}, Span{int})"/> found beyond the buffers it filled.</summary>
/// <param name="SetSize">How many entries of the set buffer hold the prediction set.</param>
public readonly record struct PredictionOutcome(double Confidence, int SetSize, IReadOnlyList<string> Reasons);

/// <summary>
/// Answers "which language does this name come from?" with one loaded model version: normalise once, logits, the
/// caller's prior, the temperature, ranking, the prediction set and reasons not to trust the answer. The web API and
/// bulk scoring adapt this; neither repeats any of it.
/// </summary>
/// <remarks>
/// Probability of language k under prior q: softmax_k(z / T + log q − log π'), z the logits, T the prior's fitted temperature,
/// π' the prior the logits learned (<see cref="LanguagePrior"/>). The prediction set is class-conditional (Mondrian)
/// conformal: language k joins when its data-prior probability reaches its own threshold, fitted on validation names
/// of k (<see cref="Calibration"/>). That score does not depend on the caller's prior, so each language keeps its
/// coverage whatever the prior; the set is listed in the order of the answered probabilities, and always holds the
/// top language. A format-1 model has one threshold for every language and answers only with the data prior.
/// Build one per loaded version (<see cref="LoadedModel.Predictor"/>); it is immutable and thread-safe.
/// </remarks>
public sealed class Predictor
{
    public const double DefaultCoverage = 0.9;

    /// <summary>Most languages whose scratch lives on the stack; a model never has nearly this many.</summary>
    private const int StackLanguages = 256;

    private readonly NameClassifier classifier;
    private readonly TrainingPrior? trainingPrior;   // null in format 1
    private readonly PredictionSetThresholds[] sets;

    public Predictor(ModelManifest manifest, NameClassifier classifier)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        this.classifier = classifier ?? throw new ArgumentNullException(nameof(classifier));
        if (Languages.Count > StackLanguages) throw new ArgumentException($"At most {StackLanguages} languages are supported.", nameof(manifest));
        Version = manifest.Version;
        trainingPrior = manifest.Prior;
        DataPrior = new LanguagePrior(PriorChoice.DataName, trainingPrior?.DataAdjustment(Languages) ?? new double[Languages.Count], classifier.Temperature);
        if (trainingPrior is not null)
        {
            var uniformTemperature = manifest.Calibration.Priors?.FirstOrDefault(prior => prior.Prior == PriorChoice.UniformName)?.Temperature;
            UniformPrior = new LanguagePrior(PriorChoice.UniformName, trainingPrior.UniformAdjustment(Languages), uniformTemperature ?? classifier.Temperature);
        }
        sets = manifest.Calibration.PredictionSets.Select(level => PredictionSetThresholds.From(level, Languages)).ToArray();
    }

    public int Version { get; }
    public IReadOnlyList<string> Languages => classifier.Languages;

    /// <summary>False for a format-1 model, which knows no training frequencies and answers only with the data prior.</summary>
    public bool AcceptsPriors => trainingPrior is not null;

    public LanguagePrior DataPrior { get; }
    private LanguagePrior? UniformPrior { get; }

    /// <summary>Checks a caller's choices against this model. Throws <see cref="InvalidPriorException"/> for a prior it cannot answer with.</summary>
    public PredictionOptions Options(PriorChoice? prior = null, double? coverage = null, int? top = null)
    {
        var wanted = coverage ?? DefaultCoverage;
        PredictionSetThresholds? set = null;
        foreach (var level in sets)
        {
            if (level.Coverage == wanted) set = level;
        }
        if (set is null)
        {
            throw new ArgumentOutOfRangeException(nameof(coverage), wanted, $"Model version {Version} has prediction sets for {string.Join(", ", sets.Select(level => level.Coverage))} only.");
        }
        if (top is < 1) throw new ArgumentOutOfRangeException(nameof(top), top, "Must be at least 1.");
        return new PredictionOptions(Resolve(prior ?? PriorChoice.Data), set, top);
    }

    private LanguagePrior Resolve(PriorChoice prior)
    {
        if (prior.Name == PriorChoice.DataName) return DataPrior;
        if (trainingPrior is null)
        {
            throw new InvalidPriorException(
                $"Model version {Version} was published without training frequencies (manifest format {ModelManifest.FirstFormat}), so it answers only with the data prior.");
        }
        if (prior.Name == PriorChoice.UniformName) return UniformPrior!;
        // Languages are matched ignoring case ("italian" is Italian); a language may be named once.
        var weights = new double[Languages.Count];
        var named = new bool[Languages.Count];
        foreach (var (language, weight) in prior.Weights!)
        {
            var k = IndexOf(language);
            if (k < 0) throw new InvalidPriorException($"Unknown language '{language}'; this model knows {string.Join(", ", Languages)}.", language);
            if (named[k]) throw new InvalidPriorException($"{Languages[k]} is given more than once.", language);
            if (!(weight >= 0) || double.IsInfinity(weight)) throw new InvalidPriorException("A weight must be a finite number, 0 or more.", language);
            (weights[k], named[k]) = (weight, true);
        }
        if (!(weights.Sum() > 0)) throw new InvalidPriorException("At least one language needs a weight above 0.");
        return new LanguagePrior(PriorChoice.WeightsName, trainingPrior.Adjustment(Languages, weights), classifier.Temperature);
    }

    private int IndexOf(string language)
    {
        for (var k = 0; k < Languages.Count; k++)
        {
            if (string.Equals(Languages[k], language, StringComparison.OrdinalIgnoreCase)) return k;
        }
        return -1;
    }

    /// <summary>
    /// The hot path, allocating only the reasons list: probabilities under the options' prior (language order) into
    /// <paramref name="probabilities"/>, language indices from most to least probable into <paramref name="ranking"/>,
    /// and the prediction set's language indices, most probable first, into the first <see cref="PredictionOutcome.SetSize"/>
    /// entries of <paramref name="set"/>. Each buffer holds one entry per language.
    /// </summary>
    public PredictionOutcome Predict(string normalizedName, PredictionOptions options, Span<double> probabilities, Span<int> ranking, Span<int> set)
    {
        if (options.Prior is null) throw new ArgumentException($"Options come from {nameof(Options)}.", nameof(options));
        Span<double> logits = stackalloc double[Languages.Count];
        classifier.Logits(normalizedName, logits);
        return Answer(normalizedName, logits, options, probabilities, ranking, set);
    }

    /// <summary>One name, normalised here, answered into a <see cref="Prediction"/>.</summary>
    public Prediction Predict(string name, PredictionOptions options)
    {
        ArgumentNullException.ThrowIfNull(name);
        var normalized = NameNormalizer.Normalize(name);
        Span<double> probabilities = stackalloc double[Languages.Count];
        Span<int> ranking = stackalloc int[Languages.Count];
        Span<int> set = stackalloc int[Languages.Count];
        var outcome = Predict(normalized, options, probabilities, ranking, set);
        var languages = new RankedLanguage[Math.Min(options.Top ?? ranking.Length, ranking.Length)];
        for (var i = 0; i < languages.Length; i++) languages[i] = new RankedLanguage(Languages[ranking[i]], probabilities[ranking[i]]);
        var setLanguages = new string[outcome.SetSize];
        for (var i = 0; i < setLanguages.Length; i++) setLanguages[i] = Languages[set[i]];
        return new Prediction(
            name, normalized, languages, outcome.Confidence, outcome.Reasons, setLanguages, options.Coverage, Transliteration.Applies(name), options.Prior.Name);
    }

    /// <summary>
    /// How the answer builds up as the RNN reads the name: per character, the hidden state and the probabilities under
    /// the options' prior if the name ended there. The last step's probabilities are <see cref="Predict(string, PredictionOptions)"/>'s.
    /// </summary>
    public IReadOnlyList<ExplainedStep> Explain(string normalizedName, PredictionOptions options)
    {
        if (options.Prior is null) throw new ArgumentException($"Options come from {nameof(Options)}.", nameof(options));
        return classifier.Explain(normalizedName).Select(step =>
        {
            var probabilities = new double[Languages.Count];
            Probabilities(step.Logits, options.Prior, probabilities);
            return step with { Probabilities = probabilities };
        }).ToArray();
    }

    private PredictionOutcome Answer(
        string normalizedName, ReadOnlySpan<double> logits, PredictionOptions options, Span<double> probabilities, Span<int> ranking, Span<int> set)
    {
        Probabilities(logits, options.Prior, probabilities);
        Calibration.Rank(probabilities, ranking);
        var confidence = probabilities[ranking[0]];
        var reasons = Abstention.Reasons(normalizedName, classifier.Vocabulary, confidence);
        // The fitted coverage holds for names like the training data; for another script, only every language is honest.
        if (reasons.Contains(Abstention.UnsupportedScriptReason))
        {
            ranking.CopyTo(set);
            return new PredictionOutcome(confidence, ranking.Length, reasons);
        }
        // Membership is judged on the data-prior probabilities, whatever prior answered (see remarks).
        Span<double> dataProbabilities = stackalloc double[Languages.Count];
        if (ReferenceEquals(options.Prior, DataPrior)) probabilities.CopyTo(dataProbabilities);
        else Probabilities(logits, DataPrior, dataProbabilities);
        return new PredictionOutcome(confidence, Calibration.PredictionSet(ranking, dataProbabilities, options.Set.Thresholds, options.Prior.Adjustment, set), reasons);
    }

    private static void Probabilities(ReadOnlySpan<double> logits, LanguagePrior prior, Span<double> probabilities) =>
        Calibration.Probabilities(logits, prior.Temperature, prior.Adjustment, probabilities);
}

/// <summary>One coverage level's per-language thresholds on the data-prior probability, in the model's language order.</summary>
internal sealed record PredictionSetThresholds(double Coverage, double[] Thresholds)
{
    public static PredictionSetThresholds From(PredictionSetLevel level, IReadOnlyList<string> languages)
    {
        if (level.Languages is not { } perLanguage) return new PredictionSetThresholds(level.Coverage, languages.Select(_ => level.Threshold).ToArray());
        var byLanguage = perLanguage.ToDictionary(threshold => threshold.Language, threshold => threshold.Threshold, StringComparer.Ordinal);
        return new PredictionSetThresholds(level.Coverage, languages.Select(language => byLanguage[language]).ToArray());
    }
}
