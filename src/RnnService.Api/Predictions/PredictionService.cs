using RnnService.Api.Models;
using RnnService.Core.Data;
using RnnService.Core.Storage;

namespace RnnService.Api.Predictions;

/// <summary>Answers predictions from the served model; every answer in one call comes from one version.</summary>
public sealed class PredictionService(ModelHost host)
{
    public PredictionResponse Predict(string name, int? top)
    {
        using var lease = host.Acquire() ?? throw new ModelUnavailableException();
        return Predict(lease.Model, [name], top)[0];
    }

    public BatchPredictionResponse PredictBatch(IReadOnlyList<string> names, int? top)
    {
        using var lease = host.Acquire() ?? throw new ModelUnavailableException();
        return new BatchPredictionResponse(Predict(lease.Model, names, top), lease.Model.Manifest.Version);
    }

    private static PredictionResponse[] Predict(LoadedModel model, IReadOnlyList<string> names, int? top)
    {
        var normalized = names.Select(NameNormalizer.Normalize).ToArray();
        var probabilities = model.Classifier.Predict(normalized);
        var languages = model.Classifier.Languages;
        return names.Select((name, i) => new PredictionResponse(
            name,
            normalized[i],
            probabilities[i]
                .Select((probability, k) => new LanguageProbability(languages[k], probability))
                .OrderByDescending(language => language.Probability)
                .Take(top ?? languages.Count)
                .ToArray(),
            model.Manifest.Version)).ToArray();
    }
}

/// <summary>No valid model is loaded, so predictions cannot be answered (HTTP 503).</summary>
public sealed class ModelUnavailableException() : Exception("No valid model is loaded yet; try again once /health/ready reports ready.");
