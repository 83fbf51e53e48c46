using System.ComponentModel.DataAnnotations;

namespace RnnService.Api.Predictions;

/// <summary>A family name to classify.</summary>
public sealed record PredictionRequest
{
    /// <summary>The family name, as written. 1–50 characters after trimming, with at least one letter.</summary>
    /// <example>Nakamura</example>
    [Required(AllowEmptyStrings = true, ErrorMessage = "Name is required."), FamilyName]
    public string? Name { get; init; }

    /// <summary>Return only the most probable languages; all 18 when omitted.</summary>
    /// <example>3</example>
    [Range(1, 100)]
    public int? Top { get; init; }
}

/// <summary>Up to 1,000 family names, classified in one batched forward pass by one model version.</summary>
public sealed record BatchPredictionRequest : IValidatableObject
{
    /// <summary>The names, each with the same rules as a single prediction's name.</summary>
    /// <example>["Nakamura", "Schmidt", "Rossi"]</example>
    [Required, MinLength(1), MaxLength(PredictionLimits.MaxBatchSize)]
    public IReadOnlyList<string?>? Names { get; init; }

    /// <summary>Return only the most probable languages per name; all when omitted.</summary>
    /// <example>3</example>
    [Range(1, 100)]
    public int? Top { get; init; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        for (var i = 0; i < Names!.Count; i++)
        {
            var member = $"{nameof(Names)}[{i}]";
            var result = Names[i] is { } name ? FamilyNameAttribute.Check(name, member) : new ValidationResult("Name is required.", [member]);
            if (result is not null) yield return result;
        }
    }
}

/// <summary>A family name to explain step by step.</summary>
public sealed record ExplainRequest
{
    /// <summary>The family name, as written. Same rules as for a prediction.</summary>
    /// <example>Schmidt</example>
    [Required(AllowEmptyStrings = true, ErrorMessage = "Name is required."), FamilyName]
    public string? Name { get; init; }

    /// <summary>How many of the most probable languages each step lists (the final winner is always added); default 3.</summary>
    /// <example>3</example>
    [Range(1, 100)]
    public int? Top { get; init; }
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

/// <summary>The languages a name most likely comes from.</summary>
/// <param name="Name">The name as given.</param>
/// <param name="NormalizedName">The name as the model read it (trimmed, NFKC, lower case).</param>
/// <param name="Languages">Languages sorted from most to least probable.</param>
/// <param name="ModelVersion">The model version that answered.</param>
public sealed record PredictionResponse(string Name, string NormalizedName, IReadOnlyList<LanguageProbability> Languages, int ModelVersion);

/// <summary>One result per requested name, in request order, all from one model version.</summary>
public sealed record BatchPredictionResponse(IReadOnlyList<PredictionResponse> Results, int ModelVersion);

public static class PredictionLimits
{
    public const int MaxNameLength = 50;
    public const int MaxBatchSize = 1000;
}
