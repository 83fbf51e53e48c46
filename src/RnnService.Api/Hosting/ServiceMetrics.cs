using System.Diagnostics.Metrics;
using RnnService.Core.Jobs;

namespace RnnService.Api.Hosting;

/// <summary>
/// The service's own metrics, on the .NET Meter "RnnService"; /metrics exposes them in Prometheus format beside the
/// HTTP request counts and latency histograms.
/// </summary>
/// <remarks>
/// The meter is process-wide, like the Prometheus registry that exports it: a meter per host would be disposed with
/// its host and take the shared series down with it when several hosts live in one process (as in the tests).
/// </remarks>
public sealed class ServiceMetrics : ITrainingMetrics
{
    public const string MeterName = "RnnService";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> Predictions =
        Meter.CreateCounter<long>("predictions", description: "Names answered, by predicted (top) language.");
    private static readonly Counter<long> TrainingJobs =
        Meter.CreateCounter<long>("training.jobs", description: "Training jobs finished, by outcome.");
    private static readonly Histogram<double> EpochDuration =
        Meter.CreateHistogram<double>("training.epoch.duration", unit: "s", description: "Duration of one training epoch.");
    private static int modelVersion;
    private static double modelLoadSeconds;

    static ServiceMetrics()
    {
        Meter.CreateObservableGauge("model.version", () => Volatile.Read(ref modelVersion), description: "The model version being served (0: none).");
        Meter.CreateObservableGauge("model.load.duration", () => Volatile.Read(ref modelLoadSeconds), unit: "s",
            description: "How long loading, verifying and warming up the served model took.");
    }

    public void PredictionServed(string language) => Predictions.Add(1, new KeyValuePair<string, object?>("language", language));

    public void ModelLoaded(int version, TimeSpan duration)
    {
        Volatile.Write(ref modelVersion, version);
        Volatile.Write(ref modelLoadSeconds, duration.TotalSeconds);
    }

    public void TrainingJobFinished(string outcome) => TrainingJobs.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void EpochCompleted(TimeSpan duration) => EpochDuration.Record(duration.TotalSeconds);
}
