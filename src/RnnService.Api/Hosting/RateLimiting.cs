using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using RnnService.Api.Predictions;

namespace RnnService.Api.Hosting;

/// <summary>Per-client limits, and the share of the cores bulk work may take (section <c>RateLimiting</c>).</summary>
public sealed class RateLimitingOptions
{
    public const string Section = "RateLimiting";

    /// <summary>Prediction requests one client (IP address) may make per window, whatever their size.</summary>
    [Range(1, 1_000_000)]
    public int PredictionsPerWindow { get; set; } = 1000;

    /// <summary>Names one client may have classified per window: the work a request asks for, not the request.</summary>
    [Range(PredictionLimits.MaxBatchSize, 100_000_000)]
    public int NamesPerWindow { get; set; } = 20_000;

    /// <summary>Reads of models and training jobs one client may make per window.</summary>
    [Range(1, 1_000_000)]
    public int ReadsPerWindow { get; set; } = 600;

    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Wrong API keys one client may send per <see cref="FailedKeyWindow"/> before it must wait.</summary>
    [Range(1, 10_000)]
    public int FailedKeysPerWindow { get; set; } = 10;

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan FailedKeyWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Batch, explain and stream requests computed at once; the rest queue, so single names always find a free core.</summary>
    [Range(1, 1024)]
    public int BulkConcurrency { get; set; } = Math.Max(1, Environment.ProcessorCount / 2);

    /// <summary>Bulk requests that may wait for their turn; beyond it they are refused (503, Retry-After).</summary>
    [Range(0, 100_000)]
    public int BulkQueue { get; set; } = 200;
}

public static class RateLimiting
{
    public const string PredictionsPolicy = "predictions";
    public const string ReadsPolicy = "reads";

    /// <summary>Fixed-window limits per client IP on predictions; a rejected request gets 429, Retry-After and problem details.</summary>
    public static IServiceCollection AddPredictionRateLimiting(this IServiceCollection services)
    {
        services.AddOptions<RateLimitingOptions>().BindConfiguration(RateLimitingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.AddPolicy(PredictionsPolicy, context => PerClient(context, options => options.PredictionsPerWindow));
            limiter.AddPolicy(ReadsPolicy, context => PerClient(context, options => options.ReadsPerWindow));
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                var http = rejected.HttpContext;
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                var options = http.RequestServices.GetRequiredService<IOptions<RateLimitingOptions>>().Value;
                var reads = http.GetEndpoint()?.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName == ReadsPolicy;
                var limit = reads
                    ? string.Create(CultureInfo.InvariantCulture, $"{options.ReadsPerWindow:N0} reads of models and training jobs")
                    : string.Create(CultureInfo.InvariantCulture, $"{options.PredictionsPerWindow:N0} prediction requests");
                await Problem.RetryLater(http, ProblemKinds.RateLimited,
                    string.Create(CultureInfo.InvariantCulture, $"A client may make {limit} per {options.Window.TotalSeconds:N0} s."), retryAfter).ExecuteAsync(http);
            };
        });
        services.AddSingleton<ClientLimits>();
        return services;
    }

    /// <summary>The key every per-client limit is kept under: the client's IP address.</summary>
    public static string ClientKey(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private static RateLimitPartition<string> PerClient(HttpContext context, Func<RateLimitingOptions, int> permits)
    {
        var options = context.RequestServices.GetRequiredService<IOptions<RateLimitingOptions>>().Value;
        return RateLimitPartition.GetFixedWindowLimiter(
            ClientKey(context), _ => new FixedWindowRateLimiterOptions { PermitLimit = permits(options), Window = options.Window, QueueLimit = 0 });
    }
}

/// <summary>
/// The limits that count work rather than requests: names per client and window, one turn at a time for bulk work (so
/// a client flooding batches within its limit cannot take every core from single predictions), and wrong API keys per
/// client (so keys cannot be guessed at speed).
/// </summary>
public sealed class ClientLimits : IDisposable
{
    private readonly RateLimitingOptions settings;
    private readonly PartitionedRateLimiter<string> names, failedKeys;
    private readonly ConcurrencyLimiter bulk;

    public ClientLimits(IOptions<RateLimitingOptions> options)
    {
        settings = options.Value;
        names = PartitionedRateLimiter.Create<string, string>(client => RateLimitPartition.GetFixedWindowLimiter(
            client, _ => new FixedWindowRateLimiterOptions { PermitLimit = settings.NamesPerWindow, Window = settings.Window, QueueLimit = 0 }));
        failedKeys = PartitionedRateLimiter.Create<string, string>(client => RateLimitPartition.GetFixedWindowLimiter(
            client, _ => new FixedWindowRateLimiterOptions { PermitLimit = settings.FailedKeysPerWindow, Window = settings.FailedKeyWindow, QueueLimit = 0 }));
        bulk = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = settings.BulkConcurrency,
            QueueLimit = settings.BulkQueue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    /// <summary>Counts <paramref name="count"/> names against the client's budget, or throws <see cref="TooManyRequestsException"/>.</summary>
    public void TakeNames(HttpContext context, int count)
    {
        using var lease = names.AttemptAcquire(RateLimiting.ClientKey(context), count);
        if (!lease.IsAcquired) throw new TooManyRequestsException(RetryAfter(lease), $"A client may have {settings.NamesPerWindow} names classified per {settings.Window.TotalSeconds:0} s.");
    }

    /// <summary>
    /// Counts <paramref name="count"/> names of a stream against the client's budget, waiting for the next window while
    /// it is spent: a stream slows to the client's rate instead of failing midway.
    /// </summary>
    public async ValueTask WaitForNamesAsync(HttpContext context, int count, CancellationToken cancellationToken)
    {
        while (count > 0)
        {
            var slice = Math.Min(count, settings.NamesPerWindow);
            using var lease = names.AttemptAcquire(RateLimiting.ClientKey(context), slice);
            if (lease.IsAcquired) count -= slice;
            else await Task.Delay(RetryAfter(lease), cancellationToken);
        }
    }

    /// <summary>Waits for a turn at bulk work; dispose the returned lease when done. Throws when the queue is full.</summary>
    public async ValueTask<RateLimitLease> EnterBulkAsync(CancellationToken cancellationToken)
    {
        var lease = await bulk.AcquireAsync(1, cancellationToken);
        if (lease.IsAcquired) return lease;
        lease.Dispose();
        throw new ServiceBusyException("Too many batch and explain requests are waiting; try again shortly.");
    }

    /// <summary>Bulk requests waiting for their turn now.</summary>
    public long BulkWaiting => bulk.GetStatistics()?.CurrentQueuedCount ?? 0;

    /// <summary>True when the client has sent too many wrong keys lately; <paramref name="retryAfter"/> says how long to wait.</summary>
    public bool IsLockedOut(HttpContext context, out TimeSpan retryAfter)
    {
        var statistics = failedKeys.GetStatistics(RateLimiting.ClientKey(context));
        retryAfter = TimeSpan.Zero;
        if (statistics is null || statistics.CurrentAvailablePermits > 0) return false;
        using var probe = failedKeys.AttemptAcquire(RateLimiting.ClientKey(context), 0);
        retryAfter = RetryAfter(probe);
        return true;
    }

    public void RecordFailedKey(HttpContext context) => failedKeys.AttemptAcquire(RateLimiting.ClientKey(context)).Dispose();

    public void Dispose()
    {
        names.Dispose();
        failedKeys.Dispose();
        bulk.Dispose();
    }

    private static TimeSpan RetryAfter(RateLimitLease lease) =>
        lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);

}

/// <summary>The client asked for more than its limit allows (HTTP 429 with Retry-After).</summary>
public sealed class TooManyRequestsException(TimeSpan retryAfter, string message) : Exception(message)
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>The service is at capacity for this kind of work (HTTP 503 with Retry-After).</summary>
public sealed class ServiceBusyException(string message) : Exception(message);
