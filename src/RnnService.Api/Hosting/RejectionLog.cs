using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace RnnService.Api.Hosting;

/// <summary>
/// Logs refused requests (401 and 429) once per client, status and window, then counts: a client hammering the service
/// produces two log lines per window (the first refusal, and how many followed), not one per request.
/// </summary>
public sealed class RejectionLog : IDisposable
{
    private readonly ConcurrentDictionary<(string Client, int Status), Window> windows = new();
    private readonly TimeProvider time;
    private readonly TimeSpan length;
    private readonly ILogger<RejectionLog> logger;
    private readonly ITimer flush;

    public RejectionLog(TimeProvider time, IOptions<RateLimitingOptions> options, ILogger<RejectionLog> logger)
    {
        (this.time, length, this.logger) = (time, options.Value.Window, logger);
        // Without the first refused request's context, whose id would otherwise label every report.
        using (ExecutionContext.SuppressFlow()) flush = time.CreateTimer(_ => Flush(), null, length, length);
    }

    public void Record(HttpContext context, int status, string? code)
    {
        var key = (RateLimiting.ClientKey(context), status);
        var now = time.GetUtcNow();
        while (true)
        {
            var window = windows.GetOrAdd(key, _ => new Window(now));
            if (now - window.Start >= length)
            {
                // The old window ends here; its count is reported once, by whoever removes it.
                if (windows.TryRemove(new KeyValuePair<(string, int), Window>(key, window))) Report(key, window);
                continue;
            }
            if (Interlocked.Increment(ref window.Count) == 1)
            {
                logger.LogWarning("Refused {Status} ({Code}) to {Client} for {Path}; further refusals of this client are counted for {Window} s",
                    status, code, key.Item1, context.Request.Path.Value, length.TotalSeconds);
            }
            return;
        }
    }

    public void Dispose() => flush.Dispose();

    private void Flush()
    {
        var now = time.GetUtcNow();
        foreach (var (key, window) in windows)
        {
            if (now - window.Start >= length && windows.TryRemove(new KeyValuePair<(string, int), Window>(key, window))) Report(key, window);
        }
    }

    private void Report((string Client, int Status) key, Window window)
    {
        var more = Volatile.Read(ref window.Count) - 1;
        if (more > 0) logger.LogWarning("Refused {Count} more requests with {Status} to {Client} in {Window} s", more, key.Status, key.Client, length.TotalSeconds);
    }

    private sealed class Window(DateTimeOffset start)
    {
        public readonly DateTimeOffset Start = start;
        public int Count;
    }
}
