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
        return Predict(lease.Model, name, top, coverage, id: null);
    }

    public BatchPredictionResponse PredictBatch(IReadOnlyList<string> names, IReadOnlyList<string?>? ids, int? top, double? coverage)
    {
        using var lease = host.Acquire() ?? throw new ModelUnavailableException();
        var results = new PredictionResponse[names.Count];
        for (var i = 0; i < results.Length; i++) results[i] = Predict(lease.Model, names[i], top, coverage, ids?[i]);
        return new BatchPredictionResponse(results, lease.Model.Manifest.Version);
    }

    public ExplainResponse Explain(string name, int? top)
    {
        using var lease = host.Acquire() ?? throw new ModelUnavailableException();
        var model = lease.Model;
        var normalized = NameNormalizer.Normalize(name);
        var steps = model.Classifier.Explain(normalized);
        var final = steps[^1].Probabilities;
        var winner = Calibration.Rank(final)[0];
        var languages = model.Classifier.Languages;
        var explained = steps.Select((step, t) => new ExplainedStepResponse(
            t + 1,
            step.Character.ToString(),
            step.Known,
            step.Hidden.Select(value => Math.Round(value, 4)).ToArray(),
            step.Norm,
            // The step's top languages, and the final winner wherever it ranks, most probable first.
            Calibration.Rank(step.Probabilities)
                .Where((k, rank) => rank < (top ?? 3) || k == winner)
                .Select(k => new LanguageProbability(languages[k], step.Probabilities[k]))
                .ToArray())).ToArray();
        var prediction = Response(name, normalized, final, model, top: null, coverage: null, id: null);
        return new ExplainResponse(name, normalized, model.Manifest.Version, explained, prediction);
    }

    private PredictionResponse Predict(LoadedModel model, string name, int? top, double? coverage, string? id)
    {
        var normalized = NameNormalizer.Normalize(name);
        Span<double> probabilities = stackalloc double[model.Classifier.Languages.Count];
        model.Classifier.Predict(normalized, probabilities);
        return Response(name, normalized, probabilities, model, top, coverage, id);
    }

    // The hot path of every prediction: loops and stack scratch rather than LINQ and arrays, as it runs once per name;
    // what it allocates is the answer.
    private PredictionResponse Response(
        string name, string normalized, ReadOnlySpan<double> probabilities, LoadedModel model, int? top, double? coverage, string? id)
    {
        var languages = model.Classifier.Languages;
        Span<int> ranked = stackalloc int[probabilities.Length];
        Calibration.Rank(probabilities, ranked);
        var answer = new LanguageProbability[Math.Min(top ?? ranked.Length, ranked.Length)];
        for (var i = 0; i < answer.Length; i++) answer[i] = new LanguageProbability(languages[ranked[i]], probabilities[ranked[i]]);
        var confidence = probabilities[ranked[0]];
        var reasons = Abstention.Reasons(normalized, model.Classifier.Vocabulary, confidence);
        var level = CalibratedLevel(model, coverage ?? DefaultCoverage);
        // The fitted coverage holds for names like the training data; for another script, only every language is honest.
        var setSize = reasons.Contains(Abstention.UnsupportedScriptReason)
            ? ranked.Length
            : Calibration.PredictionSetSize(probabilities, ranked, level.Threshold);
        var setLanguages = new string[setSize];
        for (var i = 0; i < setSize; i++) setLanguages[i] = languages[ranked[i]];
        metrics.PredictionServed(languages[ranked[0]]);
        if (privacy.Value.LogNames)
        {
            logger.LogInformation("Predicted {Name} as {Language} ({Confidence:F3})", name, languages[ranked[0]], confidence);
        }
        return new PredictionResponse(
            name,
            normalized,
            answer,
            model.Manifest.Version,
            confidence,
            reasons.Count > 0,
            reasons,
            new PredictionSet(level.Coverage, setLanguages),
            Transliteration.Applies(name),
            id);
    }

    /// <summary>The model's calibrated prediction-set level for a coverage that validation has already checked.</summary>
    private static PredictionSetLevel CalibratedLevel(LoadedModel model, double coverage)
    {
        foreach (var level in model.Manifest.Calibration.PredictionSets)
        {
            if (level.Coverage == coverage) return level;
        }
        throw new InvalidOperationException($"Model version {model.Manifest.Version} has no prediction sets for coverage {coverage}.");
    }
}

/// <summary>No valid model is loaded, so predictions cannot be answered (HTTP 503).</summary>
public sealed class ModelUnavailableException() : Exception("No valid model is loaded yet; try again once /health/ready reports ready.");
