using Microsoft.Extensions.Options;
using RnnService.Api.Models;
using RnnService.Core.Jobs;
using RnnService.Core.Storage;

namespace RnnService.Api.Training;

/// <summary>
/// Creates or migrates the job store's schema at startup, then runs this process's training worker; with
/// <c>Training:RunWorker=false</c> it only records jobs whose worker was lost, and a worker process trains.
/// </summary>
public sealed class TrainingWorker(
    IJobStore store, JobWorker worker, IOptions<TrainingOptions> options, TimeProvider time, ILogger<TrainingWorker> logger) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await store.InitializeAsync(cancellationToken);
            logger.LogInformation("Training jobs are kept in the {Store}", store.Description);
        }
        catch (JobStoreUnavailableException exception)
        {
            // Serving must not depend on the job store: start anyway, job endpoints answer 503 until it is back.
            logger.LogError("{Reason}; predictions are served, training job endpoints answer 503 until it is reachable", exception.Message);
        }
        await base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        options.Value.RunWorker
            ? worker.RunAsync(stoppingToken)
            : JobWorker.WatchForLostWorkersAsync(store, options.Value.PollInterval, time, logger, stoppingToken);
}

/// <summary>In the API process a promotion swaps the served model at once (and moves the shared folder's pointer).</summary>
internal sealed class ServedModelPromoter(ModelHost host) : IModelPromoter
{
    public ModelManifest? Serving => host.Current;

    public void Promote(int version) => host.Activate(version);
}
