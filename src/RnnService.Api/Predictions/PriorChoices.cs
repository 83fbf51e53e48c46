using System.Text.Json;
using RnnService.Core.Serving;

namespace RnnService.Api.Predictions;

/// <summary>
/// Reads a request's <c>prior</c>: absent or <c>"data"</c>, <c>"uniform"</c>, or an object of language → weight.
/// Whether the served model knows the languages and can answer with that prior is <see cref="Predictor.Options"/>'s to say.
/// </summary>
public static class PriorChoices
{
    /// <summary>The field a prior's errors are reported under; an entry's errors under <c>prior.{language}</c>.</summary>
    public const string Field = "prior";

    public static PriorChoice From(JsonElement? prior)
    {
        if (prior is not { } json || json.ValueKind == JsonValueKind.Null) return PriorChoice.Data;
        if (json.ValueKind == JsonValueKind.String)
        {
            return json.GetString() switch
            {
                PriorChoice.DataName => PriorChoice.Data,
                PriorChoice.UniformName => PriorChoice.Uniform,
                _ => throw new InvalidPriorException(Expected),
            };
        }
        if (json.ValueKind != JsonValueKind.Object) throw new InvalidPriorException(Expected);
        var weights = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var entry in json.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetDouble(out var weight))
            {
                throw new InvalidPriorException("A weight must be a number.", entry.Name);
            }
            if (!weights.TryAdd(entry.Name, weight)) throw new InvalidPriorException("The language is given twice.", entry.Name);
        }
        return PriorChoice.FromWeights(weights);
    }

    /// <summary>The field an <see cref="InvalidPriorException"/> is about.</summary>
    public static string FieldOf(InvalidPriorException exception) => exception.Language is null ? Field : $"{Field}.{exception.Language}";

    private const string Expected = "Prior must be \"data\", \"uniform\" or an object of language → weight.";
}
