using Microsoft.Extensions.Logging;
using RnnService.Core.Storage;
using RnnService.Core.Training;

namespace RnnService.Core.Jobs;

/// <summary>
/// The training worker role: claims queued jobs from the shared job store and runs them one at a time on a dedicated
/// thread (so an API process hosting it keeps its other core for predictions), publishes each successful model and
/// promotes it when the promotion rule allows. A cancelled or failed job publishes nothing.
/// </summary>
/// <remarks>
/// While a job trains, the worker heartbeats every poll interval: that renews its lease, saves the epochs so far, and
/// reads whether cancellation was requested through any instance. A worker that stops heartbeating (killed, frozen,
/// cut off) loses the job when its lease runs out: any instance then records it as failed, "worker lost", unless the
/// worker got as far as publishing. A version recorded on the job, or found in the folder with the job's id in its
/// manifest (the worker died between publishing and recording it), stays with the job, and the next worker makes its
/// promotion decision.
/// </remarks>
public sealed class JobWorker(
    IJobStore store,
    TrainingRunner runner,
    ModelStore models,
    IModelPromoter promoter,
    TrainingOptions options,
    string dataDirectory,
    TimeProvider time,
    ILogger<JobWorker> logger,
    ITrainingMetrics? metrics = null)
{
    /// <summary>Unique per process run: host, process id and a random suffix, so a restarted worker never inherits a lease.</summary>
    public string Name { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Claims and runs jobs until <paramref name="stoppingToken"/> fires, which cancels a running job cleanly.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        logger.LogInformation("Training worker {Worker} takes jobs from the {Store}", Name, store.Description);
        await Poll(async () =>
        {
            await ResolveLostAsync(store, models, logger, stoppingToken);
            if (await store.ClaimUndecidedAsync(Name, stoppingToken) is { } undecided)
            {
                await FinishUndecidedAsync(undecided);
                return true;
            }
            if (await store.ClaimNextAsync(Name, stoppingToken) is not { } job) return false;
            await RunAsync(job, stoppingToken);
            return true;
        }, options.PollInterval, time, logger, stoppingToken);
    }

    /// <summary>
    /// For instances that run no worker: records jobs whose worker was lost (with the version it published, if it got
    /// that far), so a dead worker is reported within its lease even before another one starts.
    /// </summary>
    public static Task WatchForLostWorkersAsync(
        IJobStore store, ModelStore models, TimeSpan interval, TimeProvider time, ILogger logger, CancellationToken stoppingToken) =>
        Poll(async () =>
        {
            await ResolveLostAsync(store, models, logger, stoppingToken);
            return false;
        }, interval, time, logger, stoppingToken);

    /// <summary>
    /// Runs <paramref name="step"/> again and again, pausing <paramref name="interval"/> after each that found nothing
    /// to do. An unreachable store is logged once per outage and waited out; no exception ends the loop.
    /// </summary>
    private static async Task Poll(Func<Task<bool>> step, TimeSpan interval, TimeProvider time, ILogger logger, CancellationToken stoppingToken)
    {
        var storeDown = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            var busy = false;
            try
            {
                busy = await step();
                if (storeDown) logger.LogInformation("The training job store is reachable again");
                storeDown = false;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (JobStoreUnavailableException exception)
            {
                if (!storeDown) logger.LogWarning("{Reason}; training jobs wait until it is back", exception.Message);
                storeDown = true;
            }
            catch (Exception exception)
            {
                logger.LogError(exception, "Training job loop failed; trying again");
            }
            if (busy) continue;
            try
            {
                await Task.Delay(interval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Each job whose worker was lost before recording a version: adopts the version the worker published, if the
    /// folder holds one whose manifest names the job, so the next worker decides its promotion; fails the job,
    /// "worker lost", otherwise. The folder is read only when a job is lost.
    /// </summary>
    private static async Task ResolveLostAsync(IJobStore store, ModelStore models, ILogger logger, CancellationToken cancellationToken)
    {
        foreach (var job in await store.FindLostAsync(cancellationToken))
        {
            if (models.FindPublishedBy(job.Id, job.StartedAt) is { } version)
            {
                if (await store.AdoptPublishedAsync(job.Id, version, cancellationToken))
                {
                    logger.LogWarning(
                        "Training job {Job}: worker {Worker} was lost after publishing version {Version} but before recording it on the job; the version is now recorded and the next worker decides whether to promote it",
                        job.Id, job.Worker, version);
                }
            }
            else if (await store.ExpireLostAsync(job.Id, cancellationToken) is { } lost)
            {
                logger.LogError("Training job {Job} failed: {Error}", lost.Id, lost.Error);
            }
        }
    }

    private async Task RunAsync(TrainingJob job, CancellationToken stoppingToken)
    {
        logger.LogInformation("Training job {Job} started on worker {Worker}: {Config}", job.Id, Name, job.Config);
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var progress = new JobProgress(job.Id, metrics, logger);
        var training = Task.Factory.StartNew(
            () => Train(job, progress, cancellation.Token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var leaseLost = await HeartbeatUntilDone(job, training, progress, cancellation);
        var outcome = await training;
        if (leaseLost)
        {
            logger.LogError("Training job {Job} was declared lost while worker {Worker} ran it; its outcome ({State}) is not recorded", job.Id, Name, outcome.State);
            return;
        }
        await FinishAsync(job, outcome, progress.Epochs);
    }

    /// <summary>Heartbeats until <paramref name="training"/> ends; cancels it when asked to or when the lease is lost (returns true then).</summary>
    private async Task<bool> HeartbeatUntilDone(TrainingJob job, Task training, JobProgress progress, CancellationTokenSource cancellation)
    {
        using var timer = new PeriodicTimer(options.PollInterval, time);
        while (true)
        {
            var tick = timer.WaitForNextTickAsync().AsTask();
            if (await Task.WhenAny(training, tick) == training) return false;
            try
            {
                if (await store.HeartbeatAsync(job.Id, Name, progress.Epochs) && !cancellation.IsCancellationRequested)
                {
                    logger.LogInformation("Training job {Job}: cancellation requested", job.Id);
                    await cancellation.CancelAsync();
                }
            }
            catch (JobLeaseLostException exception)
            {
                logger.LogError("{Reason} Stopping it.", exception.Message);
                await cancellation.CancelAsync();
                await training;
                return true;
            }
            catch (JobStoreUnavailableException exception)
            {
                // Training goes on: the outage may end within the lease, and the outcome is recorded then.
                logger.LogWarning("Training job {Job}: heartbeat failed: {Reason}", job.Id, exception.Message);
            }
        }
    }

    /// <summary>Trains, publishes and maybe promotes, on the training thread; returns the outcome instead of throwing.</summary>
    private JobOutcome Train(TrainingJob job, JobProgress progress, CancellationToken cancellationToken)
    {
        try
        {
            var manifest = runner.TrainAndPublish(dataDirectory, job.Config, job.Id, progress, cancellationToken);
            // The version goes on the job before promotion, so a worker lost from here on leaves the decision to the next one.
            store.RecordPublishedAsync(job.Id, Name, manifest.Version, CancellationToken.None).GetAwaiter().GetResult();
            FaultInjection.Reached("version-recorded");
            return Promote(job, manifest);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return JobOutcome.Cancelled;
        }
        catch (Exception exception)
        {
            logger.LogError(exception, "Training job {Job} failed; nothing was promoted", job.Id);
            return JobOutcome.Failed(exception.Message);
        }
    }

    private JobOutcome Promote(TrainingJob job, ModelManifest manifest)
    {
        var (promote, note) = runner.DecidePromotion(manifest, promoter.Serving, dataDirectory, options.PromotionTolerance);
        if (promote) promoter.Promote(manifest.Version);
        logger.LogInformation("Training job {Job} published version {Version}; {Note}", job.Id, manifest.Version, note);
        return JobOutcome.Succeeded(manifest.Version, promote, note);
    }

    /// <summary>Decides the promotion of a version whose worker was lost after publishing it.</summary>
    private async Task FinishUndecidedAsync(TrainingJob job)
    {
        var version = job.ModelVersion!.Value;
        logger.LogWarning("Training job {Job}: its worker was lost after publishing version {Version}; worker {Worker} decides its promotion", job.Id, version, Name);
        JobOutcome outcome;
        try
        {
            outcome = Promote(job, models.GetManifest(version));
        }
        catch (ModelLoadException exception)
        {
            outcome = JobOutcome.Failed($"worker lost after publishing version {version}, which cannot be promoted: {exception.Message}");
        }
        await FinishAsync(job, outcome, job.Epochs);
    }

    /// <summary>Records the outcome, retrying through a store outage for as long as the lease would hold the job.</summary>
    private async Task FinishAsync(TrainingJob job, JobOutcome outcome, IReadOnlyList<EpochReport> epochs)
    {
        var giveUp = time.GetUtcNow() + options.WorkerLease;
        while (true)
        {
            try
            {
                await store.FinishAsync(job.Id, Name, outcome, epochs);
                break;
            }
            catch (JobStoreUnavailableException exception) when (time.GetUtcNow() < giveUp)
            {
                logger.LogWarning("Training job {Job}: recording its outcome failed, retrying: {Reason}", job.Id, exception.Message);
                await Task.Delay(options.PollInterval, time);
            }
        }
        metrics?.TrainingJobFinished(outcome.State.ToString().ToLowerInvariant());
        switch (outcome.State)
        {
            case TrainingJobState.Cancelled:
                logger.LogWarning("Training job {Job} cancelled; nothing was published", job.Id);
                break;
            case TrainingJobState.Failed:
                logger.LogError("Training job {Job} failed: {Error}", job.Id, outcome.Error);
                break;
        }
    }

    /// <summary>Keeps each finished epoch for the next heartbeat, logs it and times it, on the training thread.</summary>
    private sealed class JobProgress(Guid job, ITrainingMetrics? metrics, ILogger logger) : IProgress<EpochReport>
    {
        private readonly Lock gate = new();
        private readonly List<EpochReport> epochs = [];
        private TimeSpan previousElapsed;

        public IReadOnlyList<EpochReport> Epochs
        {
            get
            {
                lock (gate) return epochs.ToArray();
            }
        }

        public void Report(EpochReport r)
        {
            lock (gate) epochs.Add(r);
            metrics?.EpochCompleted(r.Elapsed - previousElapsed);
            previousElapsed = r.Elapsed;
            logger.LogInformation(
                "Training job {Job} epoch {Epoch}/{Epochs}: train loss {TrainingLoss:F4} acc {TrainingAccuracy:F4}, validation loss {ValidationLoss:F4} acc {ValidationAccuracy:F4}",
                job, r.Epoch, r.Epochs, r.TrainingLoss, r.TrainingAccuracy, r.ValidationLoss, r.ValidationAccuracy);
        }
    }
}
