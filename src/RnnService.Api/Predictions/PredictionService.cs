using System.Text.Json;
using Microsoft.Extensions.Options;
using RnnService.Api.Hosting;
using RnnService.Api.Models;
using RnnService.Core.Data;
using RnnService.Core.Serving;
using RnnService.Core.Training;

namespace RnnService.Api.Predictions;

/// <summary>Names are personal data: by default the service logs none of them (section <c>Privacy</c>).</summary>
public sealed class PrivacyOptions
{
    public const string Section = "Privacy";

    /// <summary>Log each submitted name with its prediction, for debugging only. Off by default.</summary>
    public bool LogNames { get; set; }
}

/// <summary>
/// Adapts the served version's <see cref="Predictor"/> to the prediction endpoints: takes a lease, turns the request's
/// choices into options, and the answer into response records. Every answer in one call comes from one version.
/// </summary>
public sealed class PredictionService(ModelHost host, ServiceMetrics metrics, IOptions<PrivacyOptions> privacy, ILogger<PredictionService> logger)
{
    public PredictionResponse Predict(string name, int? top, double? coverage, JsonElement? prior = null)
    {
        using var lease = host.Acquire() ?? throw new ModelUnavailableException();
        var predictor = lease.Model.Predictor;
        return Response(predictor, name, NameNormalizer.Normalize(name), predictor.Options(PriorChoices.From(prior), coverage, top), id: null);
    }

    public BatchPredictionResponse PredictBatch(IReadOnlyList<string> names, IReadOnlyList<string?>? ids, int? top, double? coverage, JsonElement? prior = null)
    {
        using var lease = host.Acquire() ?? throw new ModelUnavailableException();
        var predictor = lease.Model.Predictor;
        var options = predictor.Options(PriorChoices.From(prior), coverage, top);
        var results = new PredictionResponse[names.Count];
        for (var i = 0; i < results.Length; i++) results[i] = Response(predictor, names[i], NameNormalizer.Normalize(names[i]), options, ids?[i]);
        return new BatchPredictionResponse(results, predictor.Version);
    }

    public ExplainResponse Explain(string name, int? top, JsonElement? prior = null)
    {
        using var lease = host.Acquire() ?? throw new ModelUnavailableException();
        var predictor = lease.Model.Predictor;
        var options = predictor.Options(PriorChoices.From(prior));
        var normalized = NameNormalizer.Normalize(name);
        var prediction = Response(predictor, name, normalized, options, id: null);
        var winner = prediction.Languages[0].Language;
        var languages = predictor.Languages;
        var explained = predictor.Explain(normalized, options).Select((step, t) => new ExplainedStepResponse(
            t + 1,
            step.Character.ToString(),
            step.Known,
            step.Hidden.Select(value => Math.Round(value, 4)).ToArray(),
            step.Norm,
            // The step's top languages, and the final winner wherever it ranks, most probable first.
            Calibration.Rank(step.Probabilities)
                .Where((k, rank) => rank < (top ?? 3) || languages[k] == winner)
                .Select(k => new LanguageProbability(languages[k], step.Probabilities[k]))
                .ToArray())).ToArray();
        return new ExplainResponse(name, normalized, predictor.Version, explained, prediction);
    }

    // The hot path of every prediction: loops and stack scratch rather than LINQ and arrays, as it runs once per name;
    // what it allocates is the answer.
    private PredictionResponse Response(Predictor predictor, string name, string normalized, PredictionOptions options, string? id)
    {
        var languages = predictor.Languages;
        Span<double> probabilities = stackalloc double[languages.Count];
        Span<int> ranked = stackalloc int[languages.Count];
        Span<int> set = stackalloc int[languages.Count];
        var outcome = predictor.Predict(normalized, options, probabilities, ranked, set);
        var answer = new LanguageProbability[Math.Min(options.Top ?? ranked.Length, ranked.Length)];
        for (var i = 0; i < answer.Length; i++) answer[i] = new LanguageProbability(languages[ranked[i]], probabilities[ranked[i]]);
        var setLanguages = new string[outcome.SetSize];
        for (var i = 0; i < setLanguages.Length; i++) setLanguages[i] = languages[set[i]];
        metrics.PredictionServed(languages[ranked[0]]);
        if (privacy.Value.LogNames)
        {
            logger.LogInformation("Predicted {Name} as {Language} ({Confidence:F3}, prior {Prior})", name, languages[ranked[0]], outcome.Confidence, options.Prior.Name);
        }
        return new PredictionResponse(
            name,
            normalized,
            answer,
            predictor.Version,
            outcome.Confidence,
            outcome.Reasons.Count > 0,
            outcome.Reasons,
            new PredictionSet(options.Coverage, setLanguages),
            Transliteration.Applies(name),
            options.Prior.Name,
            id);
    }
}

/// <summary>No valid model is loaded, so predictions cannot be answered (HTTP 503).</summary>
public sealed class ModelUnavailableException() : Exception("No valid model is loaded yet; try again once /health/ready reports ready.");
