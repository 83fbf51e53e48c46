using System.Diagnostics.Metrics;

namespace RnnService.Api.Hosting;

/// <summary>
/// The service's own metrics, on the .NET Meter "RnnService"; /metrics exposes them in Prometheus format beside the
/// HTTP request counts and latency histograms.
/// </summary>
public sealed class ServiceMetrics
{
    public const string MeterName = "RnnService";

    private readonly Counter<long> predictions;
    private readonly Counter<long> trainingJobs;
    private readonly Histogram<double> epochDuration;
    private int modelVersion;
    private double modelLoadSeconds;

    public ServiceMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        predictions = meter.CreateCounter<long>("predictions", description: "Names answered, by predicted (top) language.");
        trainingJobs = meter.CreateCounter<long>("training.jobs", description: "Training jobs finished, by outcome.");
        epochDuration = meter.CreateHistogram<double>("training.epoch.duration", unit: "s", description: "Duration of one training epoch.");
        meter.CreateObservableGauge("model.version", () => Volatile.Read(ref modelVersion), description: "The model version being served (0: none).");
        meter.CreateObservableGauge("model.load.duration", () => Volatile.Read(ref modelLoadSeconds), unit: "s",
            description: "How long loading, verifying and warming up the served model took.");
    }

    public void PredictionServed(string language) => predictions.Add(1, new KeyValuePair<string, object?>("language", language));

    public void ModelLoaded(int version, TimeSpan duration)
    {
        Volatile.Write(ref modelVersion, version);
        Volatile.Write(ref modelLoadSeconds, duration.TotalSeconds);
    }

    public void TrainingJobFinished(string outcome) => trainingJobs.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void EpochCompleted(TimeSpan duration) => epochDuration.Record(duration.TotalSeconds);
}
