using BenchmarkDotNet.Running;

namespace RnnService.Benchmarks;

public static class BenchmarkProgram
{
    /// <summary>BenchmarkDotNet's switcher, or with <c>bulk [rows]</c> the bulk scoring run (<see cref="BulkScoringBenchmark"/>).</summary>
    public static async Task<int> Main(string[] args)
    {
        if (args.FirstOrDefault() == "bulk") return await BulkScoringBenchmark.RunAsync(args[1..]);
        BenchmarkSwitcher.FromAssembly(typeof(BenchmarkProgram).Assembly).Run(args);
        return 0;
    }
}
