using RnnService.Core.Training;

namespace RnnService.Core.Jobs;

public enum TrainingJobState
{
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>One training job as the job store holds it: what was asked, how far it got, and how it ended.</summary>
/// <param name="Epochs">One entry per finished epoch: losses, accuracies, learning rate, elapsed time.</param>
/// <param name="ModelVersion">The published version; set while still running when the worker died before deciding promotion.</param>
/// <param name="Promoted">Whether the new version became current (see <see cref="Promotion"/>).</param>
/// <param name="PromotionNote">Why it was or was not promoted.</param>
/// <param name="Error">Why the job failed.</param>
/// <param name="CancelRequested">Someone asked for the running job to stop; its worker sees it at its next heartbeat.</param>
/// <param name="Worker">The worker that claimed the job.</param>
/// <param name="HeartbeatAt">The claiming worker's last sign of life; the job's lease runs from here.</param>
public sealed record TrainingJob(
    Guid Id,
    TrainingJobState State,
    TrainingConfig Config,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    IReadOnlyList<EpochReport> Epochs,
    int? ModelVersion,
    bool? Promoted,
    string? PromotionNote,
    string? Error,
    bool CancelRequested,
    string? Worker,
    DateTimeOffset? HeartbeatAt)
{
    public bool IsFinished => IsTerminal(State);

    /// <summary>Succeeded, failed and cancelled are final: a job in one of them never changes again.</summary>
    public static bool IsTerminal(TrainingJobState state) =>
        state is TrainingJobState.Succeeded or TrainingJobState.Failed or TrainingJobState.Cancelled;
}

/// <summary>How a running job ended, as its worker records it.</summary>
public sealed record JobOutcome(TrainingJobState State, int? ModelVersion = null, bool? Promoted = null, string? PromotionNote = null, string? Error = null)
{
    public static JobOutcome Succeeded(int version, bool promoted, string note) => new(TrainingJobState.Succeeded, version, promoted, note);
    public static JobOutcome Failed(string error) => new(TrainingJobState.Failed, Error: error);
    public static JobOutcome Cancelled { get; } = new(TrainingJobState.Cancelled);
}
