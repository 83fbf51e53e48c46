using System.Diagnostics;
using RnnService.Core.Scoring;
using Spectre.Console;

namespace RnnService.Scorer;

/// <summary>
/// A Spectre.Console progress bar (rows, names/s, share of the input read, time left) on the error stream while it is
/// a terminal; nothing when it is redirected, so logs and pipelines stay clean.
/// </summary>
internal static class ScoringProgress
{
    public static async Task<BulkSummary> RunAsync(IAnsiConsole console, long? inputBytes, Func<IProgress<BulkProgress>?, Task<BulkSummary>> score)
    {
        if (!console.Profile.Capabilities.Interactive) return await score(null);
        return await console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask("Scoring", maxValue: Math.Max(1, inputBytes ?? 1));
                task.IsIndeterminate = inputBytes is null;
                var started = Stopwatch.GetTimestamp();
                var summary = await score(new Progress(report =>
                {
                    var seconds = Math.Max(Stopwatch.GetElapsedTime(started).TotalSeconds, 1e-3);
                    task.Description = $"{report.Rows:N0} rows, {report.Rows / seconds:N0} names/s" + (report.Failed > 0 ? $", {report.Failed:N0} bad" : "");
                    task.Value = Math.Min(report.BytesRead, task.MaxValue);
                }));
                task.Value = task.MaxValue;
                task.StopTask();
                return summary;
            });
    }

    /// <summary>Reports on the scoring thread itself: <see cref="Progress{T}"/> would post to the thread pool, out of order.</summary>
    private sealed class Progress(Action<BulkProgress> report) : IProgress<BulkProgress>
    {
        public void Report(BulkProgress value) => report(value);
    }
}
