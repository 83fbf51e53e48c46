using Microsoft.Extensions.Options;

namespace RnnService.Api.Models;

/// <summary>
/// Keeps this instance serving the version the shared models folder calls current, so a publish or activation made by
/// any replica or by the command-line trainer reaches every instance within one poll interval.
/// </summary>
public sealed class ModelWatcher(ModelHost host, IOptions<ServingOptions> options) : BackgroundService
{
    /// <summary>Loads the current model during startup, so the first request already finds it.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        host.Refresh();
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.PollInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) host.Refresh();
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
    }
}
