using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using RnnService.Api.Hosting;
using RnnService.Api.Models;
using RnnService.Core.Jobs;
using RnnService.Core.Storage;
using RnnService.Core.Training;

namespace RnnService.Api.Training;

public static class TrainingRegistration
{
    /// <summary>
    /// Training jobs in the shared job store (PostgreSQL when <c>ConnectionStrings:Jobs</c> is set, else SQLite in the
    /// models folder), a training worker unless <c>Training:RunWorker</c> is false, and the store's readiness check.
    /// </summary>
    public static IServiceCollection AddTrainingWorker(this IServiceCollection services)
    {
        services.AddOptions<TrainingOptions>().BindConfiguration(TrainingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<TrainingRunner>();
        services.AddSingleton<IJobStore>(provider => JobStores.Create(
            provider.GetRequiredService<IConfiguration>().GetConnectionString("Jobs"),
            provider.GetRequiredService<ModelStore>().Root,
            provider.GetRequiredService<IOptions<TrainingOptions>>().Value.StoreSettings,
            provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton(provider =>
        {
            var options = provider.GetRequiredService<IOptions<TrainingOptions>>().Value;
            return new JobWorker(
                provider.GetRequiredService<IJobStore>(),
                provider.GetRequiredService<TrainingRunner>(),
                provider.GetRequiredService<ModelStore>(),
                new ServedModelPromoter(provider.GetRequiredService<ModelHost>()),
                options,
                provider.GetRequiredService<IWebHostEnvironment>().ContentRootRelative(options.DataDirectory),
                provider.GetRequiredService<TimeProvider>(),
                provider.GetRequiredService<ILogger<JobWorker>>(),
                provider.GetRequiredService<ServiceMetrics>());
        });
        services.AddHostedService<TrainingWorker>();
        // Degraded, not unhealthy: without the job store this instance still serves predictions, so it stays in rotation.
        services.AddHealthChecks().AddCheck<JobStoreHealthCheck>("jobStore", HealthStatus.Degraded, tags: ["ready"]);
        return services;
    }
}

internal sealed class JobStoreHealthCheck(IJobStore store) : IHealthCheck
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            await store.CheckAsync(timeout.Token);
            return HealthCheckResult.Healthy($"The {store.Description} is reachable.");
        }
        catch (Exception exception) when (exception is JobStoreUnavailableException or OperationCanceledException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus,
                exception is JobStoreUnavailableException ? exception.Message : $"The {store.Description} did not answer within {Timeout.TotalSeconds} s.");
        }
    }
}
