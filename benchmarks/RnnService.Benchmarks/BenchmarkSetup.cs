using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace RnnService.Benchmarks;

/// <summary>
/// Short in-process runs (no child process per benchmark, 3 warm-up and 5 measured iterations), so the whole suite
/// finishes in a few minutes on a busy 2-core machine. Add <c>--job default</c> on the command line for longer runs.
/// </summary>
public sealed class ShortInProcessConfig : ManualConfig
{
    public ShortInProcessConfig()
    {
        AddJob(Job.ShortRun.WithWarmupCount(3).WithIterationCount(5).WithToolchain(InProcessEmitToolchain.Instance).WithId("ShortInProcess"));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(StatisticColumn.Median, StatisticColumn.P95);
        AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory);
    }
}

/// <summary>Training epochs take about a second each: one warm-up and three measured runs, one invocation each.</summary>
public sealed class TrainingRunConfig : ManualConfig
{
    public TrainingRunConfig()
    {
        AddJob(Job.Dry.WithStrategy(RunStrategy.Monitoring).WithWarmupCount(1).WithIterationCount(3)
            .WithToolchain(InProcessEmitToolchain.Instance).WithId("Monitoring"));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(StatisticColumn.Median);
    }
}

/// <summary>Folders of this repository, found by walking up from the binaries to RnnService.sln.</summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();
    public static string Data => Path.Combine(Root, "data", "names");

    /// <summary>The repository's models, or the folder in BENCHMARK_MODELS (to time a candidate before it ships).</summary>
    public static string Models => Environment.GetEnvironmentVariable("BENCHMARK_MODELS") is { Length: > 0 } models ? models : Path.Combine(Root, "models");

    private static string FindRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "RnnService.sln"))) return directory.FullName;
            }
        }
        throw new DirectoryNotFoundException("RnnService.sln not found above " + AppContext.BaseDirectory);
    }
}
