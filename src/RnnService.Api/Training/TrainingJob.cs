using RnnService.Core.Training;

namespace RnnService.Api.Training;

/// <summary>One training run requested over HTTP. The worker moves it through its states; requests read snapshots.</summary>
public sealed class TrainingJob(TrainingConfig config, DateTimeOffset createdAt) : IDisposable
{
    private readonly Lock gate = new();
    private readonly CancellationTokenSource cancellation = new();
    private readonly List<EpochReport> epochs = [];
    private TrainingJobState state = TrainingJobState.Queued;
    private DateTimeOffset? startedAt, finishedAt;
    private int? modelVersion;
    private bool? promoted;
    private string? promotionNote, error;

    public Guid Id { get; } = Guid.NewGuid();
    public TrainingConfig Config { get; } = config;
    public CancellationToken CancellationToken => cancellation.Token;

    public bool IsFinished
    {
        get
        {
            lock (gate) return IsTerminal(state);
        }
    }

    /// <summary>Succeeded, failed and cancelled are final: a job in one of them never changes again.</summary>
    public static bool IsTerminal(TrainingJobState state) =>
        state is TrainingJobState.Succeeded or TrainingJobState.Failed or TrainingJobState.Cancelled;

    /// <summary>Asks the job to stop; false when it has already finished.</summary>
    public bool RequestCancellation()
    {
        if (IsFinished) return false;
        cancellation.Cancel();
        return true;
    }

    public void MarkRunning(DateTimeOffset now) => Update(() => (state, startedAt) = (TrainingJobState.Running, now));

    public void AddEpoch(EpochReport report) => Update(() => epochs.Add(report));

    public void MarkSucceeded(DateTimeOffset now, int version, bool wasPromoted, string note) =>
        Update(() => (state, finishedAt, modelVersion, promoted, promotionNote) = (TrainingJobState.Succeeded, now, version, wasPromoted, note));

    public void MarkFailed(DateTimeOffset now, string reason) => Update(() => (state, finishedAt, error) = (TrainingJobState.Failed, now, reason));

    public void MarkCancelled(DateTimeOffset now) => Update(() => (state, finishedAt) = (TrainingJobState.Cancelled, now));

    public TrainingJobResponse Snapshot()
    {
        lock (gate)
        {
            return new TrainingJobResponse(Id, state, Config, createdAt, startedAt, finishedAt, epochs.ToArray(), modelVersion, promoted, promotionNote, error);
        }
    }

    public void Dispose() => cancellation.Dispose();

    private void Update(Action change)
    {
        lock (gate) change();
    }
}
