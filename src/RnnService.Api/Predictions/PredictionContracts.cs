using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization;
using RnnService.Api.Hosting;

namespace RnnService.Api.Predictions;

/// <summary>A family name to classify.</summary>
public sealed record PredictionRequest
{
    /// <summary>The family name, as written. 1–50 characters after trimming, with at least one letter.</summary>
    /// <example>Nakamura</example>
    [Required(AllowEmptyStrings = true, ErrorMessage = "name is required."), FamilyName]
    public string? Name { get; init; }

    /// <summary>Return only the most probable languages; all 18 when omitted.</summary>
    /// <example>3</example>
    [Range(1, 100, ErrorMessage = TopRange)]
    public int? Top { get; init; }

    /// <summary>Coverage of the prediction set: 0.8, 0.9 (default) or 0.95.</summary>
    /// <example>0.9</example>
    [CoverageLevel]
    public double? Coverage { get; init; }

    /// <summary>
    /// How common each language is among your names: "data" (default, the training data's mix: use it when your names
    /// come from the same mix as the data), "uniform" (every language alike: use it when you have no idea), or an
    /// object of language → relative weight, e.g. {"Arabic": 2, "English": 1}; languages left out get weight 0.
    /// </summary>
    /// <example>"uniform"</example>
    public JsonElement? Prior { get; init; }

    internal const string TopRange = "top must be between 1 and 100.";
}

/// <summary>Up to 1,000 family names, all classified by one model version.</summary>
public sealed record BatchPredictionRequest : IValidatableObject
{
    /// <summary>The names, each with the same rules as a single prediction's name.</summary>
    /// <example>["Nakamura", "Schmidt", "Rossi"]</example>
    [Required(ErrorMessage = "names is required: an array of 1 to 1,000 names.")]
    [MinLength(1, ErrorMessage = "names must hold at least one name.")]
    [MaxLength(PredictionLimits.MaxBatchSize, ErrorMessage = "names may hold at most 1,000 names.")]
    public IReadOnlyList<string?>? Names { get; init; }

    /// <summary>Optional caller ids, one per name in the same order, echoed in the results.</summary>
    /// <example>["row-17", "row-18", "row-19"]</example>
    public IReadOnlyList<string?>? Ids { get; init; }

    /// <summary>Return only the most probable languages per name; all when omitted.</summary>
    /// <example>3</example>
    [Range(1, 100, ErrorMessage = PredictionRequest.TopRange)]
    public int? Top { get; init; }

    /// <summary>Coverage of the prediction sets: 0.8, 0.9 (default) or 0.95.</summary>
    /// <example>0.9</example>
    [CoverageLevel]
    public double? Coverage { get; init; }

    /// <summary>
    /// How common each language is among your names: "data" (default, the training data's mix: use it when your names
    /// come from the same mix as the data), "uniform" (every language alike: use it when you have no idea), or an
    /// object of language → relative weight, e.g. {"Arabic": 2, "English": 1}; languages left out get weight 0.
    /// </summary>
    /// <example>"uniform"</example>
    public JsonElement? Prior { get; init; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Ids is not null && Ids.Count != Names!.Count)
        {
            yield return new ValidationResult($"ids must have one entry per name ({Names.Count}), not {Ids.Count}.", [nameof(Ids)]);
        }
        for (var i = 0; i < Names!.Count; i++)
        {
            var member = $"{nameof(Names)}[{i}]";
            var result = Names[i] is { } name ? FamilyNameAttribute.Check(name, member) : new ValidationResult($"{JsonField.Casing(member)} must be a string, not null.", [member]);
            if (result is not null) yield return result;
        }
    }
}

/// <summary>A family name to explain step by step.</summary>
public sealed record ExplainRequest
{
    /// <summary>The family name, as written. Same rules as for a prediction.</summary>
    /// <example>Schmidt</example>
    [Required(AllowEmptyStrings = true, ErrorMessage = "name is required."), FamilyName]
    public string? Name { get; init; }

    /// <summary>How many of the most probable languages each step lists (the final winner is always added); default 3.</summary>
    /// <example>3</example>
    [Range(1, 100, ErrorMessage = PredictionRequest.TopRange)]
    public int? Top { get; init; }

    /// <summary>
    /// How common each language is among your names: "data" (default, the training data's mix: use it when your names
    /// come from the same mix as the data), "uniform" (every language alike: use it when you have no idea), or an
    /// object of language → relative weight, e.g. {"Arabic": 2, "English": 1}; languages left out get weight 0.
    /// </summary>
    /// <example>"uniform"</example>
    public JsonElement? Prior { get; init; }
}

/// <summary>The RNN after reading one more character of the name.</summary>
/// <param name="Position">1-based position of the character in the normalised name.</param>
/// <param name="Character">The character as normalised.</param>
/// <param name="Known">False when the training names never used this character (it was read as "unknown").</param>
/// <param name="Hidden">h_t, the hidden state after this character, rounded to 4 decimals.</param>
/// <param name="Norm">The Euclidean norm of h_t.</param>
/// <param name="Languages">softmax(V·h_t + c): the top languages if the name ended here, plus the final winner, most probable first.</param>
public sealed record ExplainedStepResponse(int Position, string Character, bool Known, IReadOnlyList<double> Hidden, double Norm, IReadOnlyList<LanguageProbability> Languages);

/// <summary>How the prediction and the hidden state evolve as the RNN reads the name character by character.</summary>
/// <param name="Steps">One step per character of the normalised name.</param>
/// <param name="Prediction">The final prediction: exactly what POST /api/predictions answers for this name.</param>
public sealed record ExplainResponse(string Name, string NormalizedName, int ModelVersion, IReadOnlyList<ExplainedStepResponse> Steps, PredictionResponse Prediction);

/// <summary>One language and the probability the model gives it.</summary>
/// <param name="Language">Language name, e.g. "Japanese".</param>
/// <param name="Probability">Between 0 and 1; over all languages they sum to 1.</param>
public sealed record LanguageProbability(string Language, double Probability);

/// <summary>The languages that together reach the requested coverage.</summary>
/// <param name="Coverage">How often such a set holds the true language (0.8, 0.9 or 0.95), as fitted on validation data.</param>
/// <param name="Languages">The languages in the set, most probable first.</param>
public sealed record PredictionSet(double Coverage, IReadOnlyList<string> Languages);

/// <summary>The languages a name most likely comes from, and how far to trust the answer.</summary>
/// <param name="Name">The name as given.</param>
/// <param name="NormalizedName">The name as the model read it (trimmed, NFKC, lower case, Cyrillic and Greek romanised).</param>
/// <param name="Languages">Languages sorted from most to least probable (calibrated probabilities).</param>
/// <param name="ModelVersion">The model version that answered.</param>
/// <param name="Confidence">The top language's probability.</param>
/// <param name="Uncertain">True when the answer should not be trusted; <paramref name="Reasons"/> says why.</param>
/// <param name="Reasons">low_confidence (top probability below 0.5), unknown_characters (a quarter or more of the characters never seen in training), unsupported_script (letters outside the Latin script after romanisation).</param>
/// <param name="PredictionSet">The languages that together hold the true one with the requested coverage.</param>
/// <param name="Transliterated">True when Cyrillic or Greek letters were romanised before prediction.</param>
/// <param name="Prior">Which prior answered: "data", "uniform" or "custom" (the request's weights).</param>
/// <param name="Id">The caller's id for this name (batch requests with ids only).</param>
public sealed record PredictionResponse(
    string Name,
    string NormalizedName,
    IReadOnlyList<LanguageProbability> Languages,
    int ModelVersion,
    double Confidence,
    bool Uncertain,
    IReadOnlyList<string> Reasons,
    PredictionSet PredictionSet,
    bool Transliterated,
    string Prior,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Id = null);

/// <summary>One result per requested name, in request order, all from one model version.</summary>
public sealed record BatchPredictionResponse(IReadOnlyList<PredictionResponse> Results, int ModelVersion);

public static class PredictionLimits
{
    public const int MaxNameLength = 50;
    public const int MaxBatchSize = 1000;
}
