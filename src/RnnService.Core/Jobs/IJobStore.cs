using RnnService.Core.Training;

namespace RnnService.Core.Jobs;

/// <summary>
/// The training jobs every instance of the service shares: API replicas queue and report them, workers claim and run
/// them. The database, not process memory, guarantees that at most one job is queued or running across the fleet.
/// </summary>
/// <remarks>Every method throws <see cref="JobStoreUnavailableException"/> when the store cannot be reached.</remarks>
public interface IJobStore
{
    /// <summary>Where the jobs are kept, for logs and health reports (no secrets).</summary>
    string Description { get; }

    /// <summary>Creates or migrates the schema; safe to call from several processes at once.</summary>
    Task InitializeAsync(CancellationToken cancellationToken = default);

    /// <summary>Answers once the store can be read and written.</summary>
    Task CheckAsync(CancellationToken cancellationToken = default);

    /// <summary>Queues a job; or, when one is already queued or running, returns that one unchanged.</summary>
    Task<(bool Queued, TrainingJob Job)> EnqueueAsync(TrainingConfig config, CancellationToken cancellationToken = default);

    Task<TrainingJob?> FindAsync(Guid id, CancellationToken cancellationToken = default);

    /// <summary>The active job (if any) and the kept finished ones, newest first.</summary>
    Task<IReadOnlyList<TrainingJob>> RecentAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Cancels a queued job at once, or asks a running job's worker to stop. Returns the job as it now is (null when
    /// unknown), and whether the request took effect (false when the job had already finished).
    /// </summary>
    Task<(bool Requested, TrainingJob? Job)> RequestCancellationAsync(Guid id, CancellationToken cancellationToken = default);

    /// <summary>Claims the queued job for <paramref name="worker"/>, if there is one; only one claimant can win it.</summary>
    Task<TrainingJob?> ClaimNextAsync(string worker, CancellationToken cancellationToken = default);

    /// <summary>
    /// Claims a job whose worker died after publishing its version but before recording the promotion decision, so
    /// <paramref name="worker"/> can finish it.
    /// </summary>
    Task<TrainingJob?> ClaimUndecidedAsync(string worker, CancellationToken cancellationToken = default);

    /// <summary>
    /// Renews the lease of a running job and saves its progress. Returns whether cancellation was requested; throws
    /// <see cref="JobLeaseLostException"/> when the job is no longer this worker's.
    /// </summary>
    Task<bool> HeartbeatAsync(Guid id, string worker, IReadOnlyList<EpochReport> epochs, CancellationToken cancellationToken = default);

    /// <summary>Records the version a running job published, before its promotion is decided.</summary>
    Task RecordPublishedAsync(Guid id, string worker, int version, CancellationToken cancellationToken = default);

    /// <summary>Ends a running job and forgets the oldest finished jobs beyond the number kept.</summary>
    Task FinishAsync(Guid id, string worker, JobOutcome outcome, IReadOnlyList<EpochReport> epochs, CancellationToken cancellationToken = default);

    /// <summary>
    /// The running jobs whose worker has been silent for longer than the lease and has recorded no version. Each is
    /// then either adopted (<see cref="AdoptPublishedAsync"/>) or expired (<see cref="ExpireLostAsync"/>).
    /// </summary>
    Task<IReadOnlyList<TrainingJob>> FindLostAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Records on a lost job the version its worker published but died before recording, so the next worker decides
    /// its promotion (<see cref="ClaimUndecidedAsync"/>). Returns false, changing nothing, unless the job is still lost
    /// with no version.
    /// </summary>
    Task<bool> AdoptPublishedAsync(Guid id, int version, CancellationToken cancellationToken = default);

    /// <summary>
    /// Ends a lost job that published nothing: <c>Failed</c>, "worker lost". Returns it, or null (changing nothing)
    /// unless the job is still lost with no version.
    /// </summary>
    Task<TrainingJob?> ExpireLostAsync(Guid id, CancellationToken cancellationToken = default);
}

/// <summary>The job store cannot be reached (database down, file unreadable); predictions are unaffected.</summary>
public sealed class JobStoreUnavailableException(string message, Exception innerException) : Exception(message, innerException);

/// <summary>A worker's job was taken from it (its lease expired, so another instance declared it lost).</summary>
public sealed class JobLeaseLostException(string message) : Exception(message);
