using System.Collections.Concurrent;
using Prometheus;
using RnnService.Core.Jobs;

namespace RnnService.Api.Hosting;

/// <summary>
/// The service's own metrics, exported at /metrics beside prometheus-net's HTTP request counts and latency histograms:
/// counters as Prometheus counters (<c>_total</c>), durations as histograms and gauges in seconds, each with a HELP text
/// in words. Made with prometheus-net directly, which names and types them as Prometheus expects (its bridge from .NET
/// meters exported counters as gauges and appended .NET type names to the HELP texts).
/// </summary>
/// <remarks>
/// The metrics are process-wide, like prometheus-net's registry: several hosts in one process (as in the tests) share them.
/// </remarks>
public sealed class ServiceMetrics : ITrainingMetrics
{
    private static readonly Counter Predictions = Metrics.CreateCounter(
        "rnnservice_predictions_total", "Names answered, by predicted (top) language.", "language");
    private static readonly Counter TrainingJobs = Metrics.CreateCounter(
        "rnnservice_training_jobs_total", "Training jobs finished, by outcome (succeeded, failed, cancelled).", "outcome");
    private static readonly Histogram EpochDuration = Metrics.CreateHistogram(
        "rnnservice_training_epoch_duration_seconds", "Seconds one training epoch took, validation pass included.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.05, 2, 10) });
    private static readonly Gauge ModelVersion = Metrics.CreateGauge(
        "rnnservice_model_version", "The model version being served (0: none).");
    private static readonly Gauge ModelLoadDuration = Metrics.CreateGauge(
        "rnnservice_model_load_duration_seconds", "Seconds it took to load, verify and warm up the served model version.");

    // One child per language, looked up without allocating on the prediction path.
    private static readonly ConcurrentDictionary<string, Counter.Child> PredictionsByLanguage = new(StringComparer.Ordinal);

    public void PredictionServed(string language) =>
        PredictionsByLanguage.GetOrAdd(language, static label => Predictions.WithLabels(label)).Inc();

    public void ModelLoaded(int version, TimeSpan duration)
    {
        ModelVersion.Set(version);
        ModelLoadDuration.Set(duration.TotalSeconds);
    }

    public void TrainingJobFinished(string outcome) => TrainingJobs.WithLabels(outcome).Inc();

    public void EpochCompleted(TimeSpan duration) => EpochDuration.Observe(duration.TotalSeconds);
}
