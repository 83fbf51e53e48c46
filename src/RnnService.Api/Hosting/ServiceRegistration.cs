using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using RnnService.Api.Models;
using RnnService.Api.Predictions;
using RnnService.Core.Storage;
using Prometheus;
using Serilog;

namespace RnnService.Api.Hosting;

/// <summary>The details behind each line of Program.cs.</summary>
public static class ServiceRegistration
{
    /// <summary>
    /// Serilog: structured console logs, levels from the <c>Serilog</c> configuration section. Each host keeps its own
    /// logger instead of replacing the static <c>Log.Logger</c>, so hosts sharing a process never log into each other.
    /// </summary>
    public static WebApplicationBuilder AddSerilogLogging(this WebApplicationBuilder builder)
    {
        builder.Services.AddSerilog(
            (services, logger) => logger
                .ReadFrom.Configuration(builder.Configuration)
                .ReadFrom.Services(services)
                .Enrich.FromLogContext(),
            preserveStaticLogger: true);
        return builder;
    }

    /// <summary>
    /// Kestrel's limits from the <c>Http</c> section: request bodies capped (413 beyond), connections capped, and slow
    /// clients cut off (headers that take too long, bodies that trickle), so nobody holds connections for minutes.
    /// </summary>
    public static IServiceCollection AddKestrelLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var http = configuration.GetSection("Http");
        return services.Configure<KestrelServerOptions>(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = http.GetValue<long>("MaxRequestBodyBytes", 256 * 1024);
            kestrel.Limits.MaxConcurrentConnections = http.GetValue<long>("MaxConnections", 1000);
            kestrel.Limits.RequestHeadersTimeout = http.GetValue("RequestHeadersTimeout", TimeSpan.FromSeconds(10));
            kestrel.Limits.KeepAliveTimeout = http.GetValue("KeepAliveTimeout", TimeSpan.FromSeconds(30));
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(http.GetValue<double>("MinRequestBodyBytesPerSecond", 2048), TimeSpan.FromSeconds(5));
        });
    }

    /// <summary>Controllers (their JSON is <see cref="ServiceJson"/>'s); an Accept header they cannot satisfy is a 406.</summary>
    public static IServiceCollection AddApiControllers(this IServiceCollection services)
    {
        services.AddControllers(mvc => mvc.ReturnHttpNotAcceptable = true);
        return services;
    }

    /// <summary>
    /// The prediction endpoints' JSON (source-generated contracts: no reflection per call, also for reading requests)
    /// and the minimal-API validator, which checks their DataAnnotations and answers 400 with the failing fields.
    /// </summary>
    public static IServiceCollection AddPredictionEndpoints(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(json => json.SerializerOptions.TypeInfoResolverChain.Insert(0, PredictionJsonContext.Default));
        services.AddValidation();
        return services;
    }

    /// <summary>The model store, the served model with hot swap, and the watcher that follows the shared folder.</summary>
    public static IServiceCollection AddModelServing(this IServiceCollection services)
    {
        services.AddOptions<ServingOptions>().BindConfiguration(ServingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(provider => new ModelStore(
            provider.GetRequiredService<IWebHostEnvironment>().ContentRootRelative(provider.GetRequiredService<IOptions<ServingOptions>>().Value.ModelsDirectory),
            provider.GetRequiredService<ILogger<ModelStore>>()));
        services.AddSingleton<ModelHost>();
        services.AddSingleton<ModelListing>();
        services.AddHostedService<ModelWatcher>();
        services.AddOptions<PrivacyOptions>().BindConfiguration(PrivacyOptions.Section);
        services.AddSingleton<PredictionService>();
        services.AddOptions<StreamingOptions>().BindConfiguration(StreamingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<PredictionStreams>();
        return services;
    }

    /// <summary>
    /// Prometheus metrics: prometheus-net's HTTP metrics and process gauges plus <see cref="ServiceMetrics"/>. The
    /// runtime's event counters and .NET meters are left out so /metrics stays readable.
    /// </summary>
    public static IServiceCollection AddServiceMetrics(this IServiceCollection services)
    {
        PrometheusDefaults.Value.ToString(); // process-wide settings, applied once
        services.AddSingleton<ServiceMetrics>();
        return services;
    }

    private static readonly Lazy<bool> PrometheusDefaults = new(() =>
    {
        Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions { SuppressEventCounters = true, SuppressDebugMetrics = true, SuppressMeters = true });
        return true;
    });

    /// <summary>An absolute path, with a relative one taken as relative to the content root.</summary>
    public static string ContentRootRelative(this IWebHostEnvironment environment, string path) =>
        Path.GetFullPath(path, environment.ContentRootPath);

    /// <summary>
    /// Liveness (the process answers) and readiness (a model is loaded; its version is reported). Readiness lists each
    /// dependency's state under <c>checks</c>; a degraded one (the job store) names itself there but keeps the 200.
    /// </summary>
    public static IServiceCollection AddModelHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<ModelReadyHealthCheck>("model", tags: ["ready"]);
        return services;
    }

    public static WebApplication MapHealthEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains("ready"),
            ResponseWriter = (context, report) => context.Response.WriteAsJsonAsync(new
            {
                status = report.Status.ToString(),
                modelVersion = report.Entries.TryGetValue("model", out var model) ? model.Data.GetValueOrDefault("version") : null,
                description = model.Description,
                checks = report.Entries.ToDictionary(entry => entry.Key, entry => new { status = entry.Value.Status.ToString(), description = entry.Value.Description }),
            }),
        });
        return app;
    }

    /// <summary>Sets TorchSharp's thread count once, before any tensor work.</summary>
    public static WebApplication UseTorchThreads(this WebApplication app)
    {
        var threads = app.Services.GetRequiredService<IOptions<ServingOptions>>().Value.TorchThreads;
        TorchSharp.torch.set_num_threads(threads);
        return app;
    }
}

internal sealed class ModelReadyHealthCheck(ModelHost host) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult((host.Current, host.Problem) switch
        {
            (null, var problem) => HealthCheckResult.Unhealthy(problem is null ? "No valid model is loaded." : $"No valid model is loaded: {problem}."),
            ({ } manifest, null) => HealthCheckResult.Healthy($"Serving model version {manifest.Version}.", Version(manifest)),
            // Still ready (200): the last good model answers while the folder is repaired.
            ({ } manifest, { } problem) => HealthCheckResult.Degraded($"Degraded: {problem}; serving version {manifest.Version}.", data: Version(manifest)),
        });

    private static Dictionary<string, object> Version(ModelManifest manifest) => new() { ["version"] = manifest.Version };
}
