using Microsoft.Extensions.Options;
using RnnService.Api.Hosting;
using RnnService.Api.Models;
using RnnService.Core.Storage;
using RnnService.Core.Training;

namespace RnnService.Api.Training;

/// <summary>
/// Runs queued training jobs one at a time on a dedicated thread, so predictions keep their own core; publishes each
/// successful model and promotes it to current when the promotion rule allows. A cancelled or failed job publishes nothing.
/// </summary>
public sealed class TrainingWorker(
    TrainingJobs jobs,
    TrainingRunner runner,
    ModelHost host,
    IOptions<TrainingOptions> options,
    IWebHostEnvironment environment,
    TimeProvider time,
    ServiceMetrics metrics,
    ILogger<TrainingWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var job in jobs.Queue.ReadAllAsync(stoppingToken))
            {
                await Task.Factory.StartNew(() => Run(job, stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down; a running job was cancelled through the same token.
        }
    }

    private void Run(TrainingJob job, CancellationToken stoppingToken)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(job.CancellationToken, stoppingToken);
        if (cancellation.IsCancellationRequested)
        {
            job.MarkCancelled(time.GetUtcNow());
        }
        else
        {
            job.MarkRunning(time.GetUtcNow());
            Train(job, cancellation.Token);
        }
        metrics.TrainingJobFinished(job.Snapshot().State.ToString().ToLowerInvariant());
    }

    /// <summary>Trains, publishes and maybe promotes; records the outcome on the job instead of throwing.</summary>
    private void Train(TrainingJob job, CancellationToken cancellationToken)
    {
        logger.LogInformation("Training job {Job} started: {Config}", job.Id, job.Config);
        try
        {
            var progress = new EpochProgress(job, metrics, logger);
            var dataDirectory = environment.ContentRootRelative(options.Value.DataDirectory);
            var manifest = runner.TrainAndPublish(dataDirectory, job.Config, progress, cancellationToken);
            var (promote, note) = runner.DecidePromotion(manifest, host.Current, dataDirectory, options.Value.PromotionTolerance);
            if (promote) host.Activate(manifest.Version);
            job.MarkSucceeded(time.GetUtcNow(), manifest.Version, promote, note);
            logger.LogInformation("Training job {Job} published version {Version}; {Note}", job.Id, manifest.Version, note);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            job.MarkCancelled(time.GetUtcNow());
            logger.LogWarning("Training job {Job} cancelled; nothing was published", job.Id);
        }
        catch (Exception exception)
        {
            job.MarkFailed(time.GetUtcNow(), exception.Message);
            logger.LogError(exception, "Training job {Job} failed; nothing was promoted", job.Id);
        }
    }

    /// <summary>Records each epoch on the job and logs it, on the training thread itself.</summary>
    private sealed class EpochProgress(TrainingJob job, ServiceMetrics metrics, ILogger logger) : IProgress<EpochReport>
    {
        private TimeSpan previousElapsed;

        public void Report(EpochReport r)
        {
            job.AddEpoch(r);
            metrics.EpochCompleted(r.Elapsed - previousElapsed);
            previousElapsed = r.Elapsed;
            logger.LogInformation(
                "Training job {Job} epoch {Epoch}/{Epochs}: train loss {TrainingLoss:F4} acc {TrainingAccuracy:F4}, validation loss {ValidationLoss:F4} acc {ValidationAccuracy:F4}",
                job.Id, r.Epoch, r.Epochs, r.TrainingLoss, r.TrainingAccuracy, r.ValidationLoss, r.ValidationAccuracy);
        }
    }
}
