using Microsoft.Extensions.Options;
using RnnService.Api.Hosting;
using RnnService.Api.Models;
using RnnService.Core.Data;
using RnnService.Core.Model;
using RnnService.Core.Storage;
using RnnService.Core.Training;

namespace RnnService.Api.Predictions;

/// <summary>Names are personal data: by default the service logs none of them (section <c>Privacy</c>).</summary>
public sealed class PrivacyOptions
{
    public const string Section = "Privacy";

    /// <summary>Log each submitted name with its prediction, for debugging only. Off by default.</summary>
    public bool LogNames { get; set; }
}

/// <summary>Answers predictions from the served model; every answer in one call comes from one version.</summary>
public sealed class PredictionService(ModelHost host, ServiceMetrics metrics, IOptions<PrivacyOptions> privacy, ILogger<PredictionService> logger)
{
    public const double DefaultCoverage = 0.9;

    public PredictionResponse Predict(string name, int? top, double? coverage)
    {
        using var lease = host.Acquire() ?? throw new ModelUnavailableException();
        return Predict(lease.Model, [name], ids: null, top, coverage)[0];
    }

    public BatchPredictionResponse PredictBatch(IReadOnlyList<string> names, IReadOnlyList<string?>? ids, int? top, double? coverage)
    {
        using var lease = host.Acquire() ?? throw new ModelUnavailableException();
        return new BatchPredictionResponse(Predict(lease.Model, names, ids, top, coverage), lease.Model.Manifest.Version);
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
        var prediction = Response(name, normalized, steps[^1].Probabilities, model, top: null, coverage: null, id: null);
        return new ExplainResponse(name, normalized, model.Manifest.Version, explained, prediction);
    }

    private PredictionResponse[] Predict(LoadedModel model, IReadOnlyList<string> names, IReadOnlyList<string?>? ids, int? top, double? coverage)
    {
        var normalized = names.Select(NameNormalizer.Normalize).ToArray();
        var probabilities = model.Classifier.Predict(normalized);
        return names.Select((name, i) => Response(name, normalized[i], probabilities[i], model, top, coverage, ids?[i])).ToArray();
    }

    private PredictionResponse Response(
        string name, string normalized, double[] probabilities, LoadedModel model, int? top, double? coverage, string? id)
    {
        var languages = model.Classifier.Languages;
        var ranked = Ranked(probabilities, languages).ToArray();
        var confidence = ranked[0].Probability;
        var reasons = Abstention.Reasons(normalized, model.Classifier.Vocabulary, confidence);
        var level = model.Manifest.Calibration.PredictionSets.Single(set => set.Coverage == (coverage ?? DefaultCoverage));
        // The fitted coverage holds for names like the training data; for another script, only every language is honest.
        var setLanguages = reasons.Contains(Abstention.UnsupportedScriptReason)
            ? ranked.Select(language => language.Language).ToArray()
            : Calibration.PredictionSet(probabilities, level.Threshold).Select(k => languages[k]).ToArray();
        var predictionSet = new PredictionSet(level.Coverage, setLanguages);
        metrics.PredictionServed(ranked[0].Language);
        if (privacy.Value.LogNames)
        {
            logger.LogInformation("Predicted {Name} as {Language} ({Confidence:F3})", name, ranked[0].Language, confidence);
        }
        return new PredictionResponse(
            name,
            normalized,
            ranked.Take(top ?? ranked.Length).ToArray(),
            model.Manifest.Version,
            confidence,
            reasons.Count > 0,
            reasons,
            predictionSet,
            Transliteration.Applies(name.ToLowerInvariant()),
            id);
    }

    /// <summary>Languages with their probabilities, most probable first.</summary>
    private static IEnumerable<LanguageProbability> Ranked(double[] probabilities, IReadOnlyList<string> languages) =>
        probabilities.Select((probability, k) => new LanguageProbability(languages[k], probability)).OrderByDescending(language => language.Probability);
}

/// <summary>No valid model is loaded, so predictions cannot be answered (HTTP 503).</summary>
public sealed class ModelUnavailableException() : Exception("No valid model is loaded yet; try again once /health/ready reports ready.");
