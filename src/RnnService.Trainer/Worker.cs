using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RnnService.Core.Jobs;
using RnnService.Core.Storage;
using RnnService.Core.Training;

namespace RnnService.Trainer;

/// <summary>
/// The training worker role: a process that only trains. It reads the API's own settings (Serving:ModelsDirectory,
/// Training:*, ConnectionStrings:Jobs), so both roles of the one image take the same environment.
/// </summary>
internal static class Worker
{
    public static async Task<int> RunAsync(HostApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var modelsDirectory = Path.GetFullPath(configuration["Serving:ModelsDirectory"] ?? "models");
        builder.Services.AddOptions<TrainingOptions>().BindConfiguration(TrainingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(services => new ModelStore(modelsDirectory, services.GetRequiredService<ILogger<ModelStore>>()));
        builder.Services.AddSingleton<TrainingRunner>();
        builder.Services.AddSingleton<IJobStore>(services => JobStores.Create(
            configuration.GetConnectionString("Jobs"), modelsDirectory,
            services.GetRequiredService<IOptions<TrainingOptions>>().Value.StoreSettings, services.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton(services =>
        {
            var options = services.GetRequiredService<IOptions<TrainingOptions>>().Value;
            var models = services.GetRequiredService<ModelStore>();
            return new JobWorker(
                services.GetRequiredService<IJobStore>(), services.GetRequiredService<TrainingRunner>(), models, new FolderPromoter(models), options,
                Path.GetFullPath(options.DataDirectory), services.GetRequiredService<TimeProvider>(), services.GetRequiredService<ILogger<JobWorker>>());
        });
        builder.Services.AddHostedService<WorkerService>();

        using var host = builder.Build();
        TorchSharp.torch.set_num_threads(configuration.GetValue("Serving:TorchThreads", 1));
        try
        {
            await host.RunAsync();
            return 0;
        }
        catch (OptionsValidationException exception)
        {
            host.Services.GetRequiredService<ILogger<WorkerService>>().LogError("Invalid settings: {Failures}", string.Join("; ", exception.Failures));
            return 2;
        }
    }

    /// <summary>Runs the worker until the host stops (SIGTERM or Ctrl+C cancel the running job cleanly).</summary>
    private sealed class WorkerService(IJobStore store, JobWorker worker, ILogger<WorkerService> logger) : BackgroundService
    {
        public override async Task StartAsync(CancellationToken cancellationToken)
        {
            try
            {
                await store.InitializeAsync(cancellationToken);
            }
            catch (JobStoreUnavailableException exception)
            {
                logger.LogError("{Reason}; the worker waits for it", exception.Message); // the worker loop retries
            }
            await base.StartAsync(cancellationToken);
        }

        protected override Task ExecuteAsync(CancellationToken stoppingToken) => worker.RunAsync(stoppingToken);
    }
}
