using Microsoft.Extensions.Options;
using RnnService.Api.Models;
using RnnService.Core.Jobs;
using RnnService.Core.Storage;

namespace RnnService.Api.Training;

/// <summary>
/// Creates or migrates the job store's schema at startup, then runs this process's training worker; with
/// <c>Training:RunWorker=false</c> it only records jobs whose worker was lost (with the version it published, if any),
/// and a worker process trains.
/// </summary>
public sealed class TrainingWorker(
    IJobStore store, JobWorker worker, ModelStore models, IOptions<TrainingOptions> options, TimeProvider time, ILogger<TrainingWorker> logger)
    : BackgroundService
{
    /// <summary>How long startup waits for the job store; serving must not wait on it any longer.</summary>
    private static readonly TimeSpan StartupWait = TimeSpan.FromSeconds(5);

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(StartupWait);
        try
        {
            await store.InitializeAsync(wait.Token);
            logger.LogInformation("Training jobs are kept in the {Store}", store.Description);
        }
        catch (Exception exception) when (exception is JobStoreUnavailableException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            // Start anyway: predictions are served, job endpoints answer 503, and the schema is made on first use.
            var reason = exception is JobStoreUnavailableException ? exception.Message : $"The training job store ({store.Description}) did not answer within {StartupWait.TotalSeconds} s";
            logger.LogError("{Reason}; predictions are served, training job endpoints answer 503 until it is reachable", reason);
        }
        await base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        options.Value.RunWorker
            ? worker.RunAsync(stoppingToken)
            : JobWorker.WatchForLostWorkersAsync(store, models, options.Value.PollInterval, time, logger, stoppingToken);
}

/// <summary>In the API process a promotion swaps the served model at once (and moves the shared folder's pointer).</summary>
internal sealed class ServedModelPromoter(ModelHost host) : IModelPromoter
{
    public ModelManifest? Serving => host.Current;

    public void Promote(int version) => host.Activate(version);
}
