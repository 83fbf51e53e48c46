using RnnService.Core.Storage;

namespace RnnService.Core.Serving;

/// <summary>
/// What a caller believes about how common each language is among the names it asks about: the training data's mix
/// (<see cref="Data"/>, the default), every language alike (<see cref="Uniform"/>), or its own weights.
/// </summary>
public sealed record PriorChoice
{
    public const string DataName = TrainingPrior.DataName;
    public const string UniformName = TrainingPrior.UniformName;
    public const string WeightsName = "custom";

    private PriorChoice(string name, IReadOnlyDictionary<string, double>? weights) => (Name, Weights) = (name, weights);

    /// <summary>The names come from the same mix of languages as the training data.</summary>
    public static PriorChoice Data { get; } = new(DataName, null);

    /// <summary>Nothing is known about the mix: every language is equally likely.</summary>
    public static PriorChoice Uniform { get; } = new(UniformName, null);

    /// <summary>
    /// Relative weights per language (any positive scale; names matched ignoring case); languages left out get weight
    /// 0 and are never answered.
    /// </summary>
    public static PriorChoice FromWeights(IReadOnlyDictionary<string, double> weights) => new(WeightsName, weights ?? throw new ArgumentNullException(nameof(weights)));

    /// <summary>"data", "uniform" or "custom": what the response says answered.</summary>
    public string Name { get; }

    public IReadOnlyDictionary<string, double>? Weights { get; }
}

/// <summary>
/// A prior resolved against one model version: per language, the term added to the calibrated logits,
/// log q_k − log π'_k, where π' is the prior the logits were trained to (see <see cref="TrainingPrior"/>).
/// </summary>
/// <remarks>
/// Why this is right: a model trained on labels drawn with prior π' estimates p'(k | x) ∝ π'_k · p(x | k). If names
/// come with prior q instead and p(x | k) is unchanged (label shift), p(k | x) ∝ p'(k | x) · q_k / π'_k, which is
/// softmax(logits + log q − log π'). The temperature is fitted for the data prior on the adjusted logits
/// (z / T + log π − log π', see <see cref="Training.Calibration"/>), so the adjustment is added after dividing by T:
/// it re-weights calibrated probabilities rather than being sharpened or flattened with them.
/// </remarks>
public sealed class LanguagePrior
{
    internal LanguagePrior(string name, double[] adjustment, double temperature) => (Name, Adjustment, Temperature) = (name, adjustment, temperature);

    /// <summary>"data", "uniform" or "custom".</summary>
    public string Name { get; }

    /// <summary>log q_k − log π'_k per language, in the model's language order; −∞ for a language the prior rules out.</summary>
    internal double[] Adjustment { get; }

    /// <summary>
    /// The temperature T this prior answers with: the data prior's, or the one fitted for the uniform prior (see
    /// <see cref="Training.Calibration"/>); a caller's own weights answer with the data prior's.
    /// </summary>
    public double Temperature { get; }
}

/// <summary>A prior a model cannot answer with (HTTP 400); <see cref="Language"/> names the offending entry, if one.</summary>
public sealed class InvalidPriorException(string message, string? language = null) : Exception(message)
{
    public string? Language { get; } = language;
}
