using RnnService.Api.Hosting;
using RnnService.Api.Models;
using RnnService.Core.Data;
using RnnService.Core.Storage;

namespace RnnService.Api.Predictions;

/// <summary>Answers predictions from the served model; every answer in one call comes from one version.</summary>
public sealed class PredictionService(ModelHost host, ServiceMetrics metrics)
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

    public ExplainResponse Explain(string name, int? top)
    {
        using var lease = host.Acquire() ?? throw new ModelUnavailableException();
        var model = lease.Model;
        var normalized = NameNormalizer.Normalize(name);
        var steps = model.Classifier.Explain(normalized);
        var winner = Array.IndexOf(steps[^1].Probabilities, steps[^1].Probabilities.Max());
        var languages = model.Classifier.Languages;
        var explained = steps.Select((step, t) => new ExplainedStepResponse(
            t + 1,
            step.Character.ToString(),
            step.Known,
            step.Hidden.Select(value => Math.Round(value, 4)).ToArray(),
            step.Norm,
            Ranked(step.Probabilities, languages)
                .Take(top ?? 3)
                .Union([new LanguageProbability(languages[winner], step.Probabilities[winner])])
                .OrderByDescending(language => language.Probability)
                .ToArray())).ToArray();
        var prediction = Response(name, normalized, steps[^1].Probabilities, model, top: null);
        return new ExplainResponse(name, normalized, model.Manifest.Version, explained, prediction);
    }

    private PredictionResponse[] Predict(LoadedModel model, IReadOnlyList<string> names, int? top)
    {
        var normalized = names.Select(NameNormalizer.Normalize).ToArray();
        var probabilities = model.Classifier.Predict(normalized);
        return names.Select((name, i) => Response(name, normalized[i], probabilities[i], model, top)).ToArray();
    }

    private PredictionResponse Response(string name, string normalized, double[] probabilities, LoadedModel model, int? top)
    {
        var ranked = Ranked(probabilities, model.Classifier.Languages).Take(top ?? probabilities.Length).ToArray();
        metrics.PredictionServed(ranked[0].Language);
        return new PredictionResponse(name, normalized, ranked, model.Manifest.Version);
    }

    /// <summary>Languages with their probabilities, most probable first.</summary>
    private static IEnumerable<LanguageProbability> Ranked(double[] probabilities, IReadOnlyList<string> languages) =>
        probabilities.Select((probability, k) => new LanguageProbability(languages[k], probability)).OrderByDescending(language => language.Probability);
}

/// <summary>No valid model is loaded, so predictions cannot be answered (HTTP 503).</summary>
public sealed class ModelUnavailableException() : Exception("No valid model is loaded yet; try again once /health/ready reports ready.");
