using Microsoft.Extensions.Options;

namespace RnnService.Api.Models;

/// <summary>
/// Keeps this instance serving the version the shared models folder calls current, so a publish or activation made by
/// any replica or by the command-line trainer reaches every instance within one poll interval.
/// </summary>
public sealed class ModelWatcher(ModelHost host, IOptions<ServingOptions> options, ILogger<ModelWatcher> logger) : BackgroundService
{
    /// <summary>Loads the current model during startup, so the first request already finds it.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        RefreshSurvivingAnything();
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.PollInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) RefreshSurvivingAnything();
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
    }

    /// <summary>
    /// The host already turns every known failure into its <see cref="ModelHost.Problem"/>; whatever else goes wrong is
    /// logged and the next poll tries again, because a dead watcher would stop the process (or freeze its model).
    /// </summary>
    private void RefreshSurvivingAnything()
    {
        try
        {
            host.Refresh();
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            logger.LogError(exception, "Following the models folder failed; trying again at the next poll");
        }
    }
}
