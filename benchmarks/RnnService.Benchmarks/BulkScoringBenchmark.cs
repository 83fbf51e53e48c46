using System.Diagnostics;
using System.Globalization;
using System.Text;
using RnnService.Core.Data;
using RnnService.Core.Scoring;
using RnnService.Core.Storage;

namespace RnnService.Benchmarks;

/// <summary>
/// Bulk scoring of a million names on one thread, not a BenchmarkDotNet run: each stage runs once over the same names
/// and prints its wall time and the process's CPU time, which other load on a shared machine disturbs less. The stages:
/// the fast path alone (normalise and predict, the baseline), the whole per-name answer (<see cref="NameScorer"/>),
/// and the command line's work, a CSV file scored into a CSV file (<see cref="BulkScoring"/>).
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project benchmarks/RnnService.Benchmarks -- bulk [rows]</c>.</remarks>
internal static class BulkScoringBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rows = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        var store = new ModelStore(RepositoryPaths.Models);
        using var model = store.Load(store.CurrentVersion() ?? throw new InvalidOperationException("No model in " + RepositoryPaths.Models));
        var names = Names(rows);
        var input = Path.Combine(Path.GetTempPath(), $"rnnservice-bulk-{rows}.csv");
        WriteCsv(input, names);
        var output = Path.Combine(Path.GetTempPath(), $"rnnservice-bulk-{rows}-scored.csv");
        var scorer = new NameScorer(model.Predictor, top: 0);
        Console.WriteLine($"{rows:N0} names from data/names, {new FileInfo(input).Length / 1e6:F1} MB of CSV (id,last_name,city), model version {model.Manifest.Version}, {Environment.ProcessorCount} cores, load average {LoadAverage()}");

        // Warm-up: tiered JIT compiles the hot loops before anything is timed.
        Measure("warm-up", () => FastPath(model, names[..Math.Min(rows, 50_000)]));

        var fast = Measure("fast path alone (normalise + predict)", () => FastPath(model, names));
        var answer = Measure("per-name answer (NameScorer: + rank, reasons, set)", () => Answers(scorer, names));
        var csv = Measure("CSV file -> CSV file (BulkScoring, one thread)", () => ScoreFile(scorer, input, output));
        Console.WriteLine($"CSV -> CSV / fast path alone: {csv.Cpu / fast.Cpu:F2} (CPU), {csv.Wall / fast.Wall:F2} (wall); per-name answer / fast path: {answer.Cpu / fast.Cpu:F2} (CPU)");
        Console.WriteLine($"CSV -> CSV: {rows / csv.Cpu:N0} names per CPU-second; at the issue's 5 s for the fast path alone, {5 * csv.Cpu / fast.Cpu:F1} s for 1,000,000 names (target <= 15 s)");
        File.Delete(output);
        return 0;
    }

    private static (double Wall, double Cpu) Measure(string stage, Action run)
    {
        GC.Collect();
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        run();
        wall.Stop();
        process.Refresh();
        var cpuSeconds = (process.TotalProcessorTime - cpu).TotalSeconds;
        Console.WriteLine($"{stage,-52} {wall.Elapsed.TotalSeconds,7:F2} s wall {cpuSeconds,7:F2} s CPU");
        return (wall.Elapsed.TotalSeconds, cpuSeconds);
    }

    private static void FastPath(LoadedModel model, string[] names)
    {
        Span<double> probabilities = stackalloc double[model.Classifier.Languages.Count];
        foreach (var name in names) model.Classifier.Predict(NameNormalizer.Normalize(name), probabilities);
    }

    private static void Answers(NameScorer scorer, string[] names)
    {
        foreach (var name in names) scorer.Score(name, out _);
    }

    private static void ScoreFile(NameScorer scorer, string input, string output)
    {
        using var source = File.OpenRead(input);
        using var destination = File.Create(output);
        BulkScoring.ScoreAsync(source, BulkFormat.Csv, destination, BulkFormat.Csv, scorer, new BulkOptions("last_name")).GetAwaiter().GetResult();
    }

    /// <summary>Real names from data/names, drawn with a fixed seed, as many as asked for.</summary>
    private static string[] Names(int count)
    {
        var pool = NamesDataset.Load(RepositoryPaths.Data).Examples.Select(example => example.Name).ToArray();
        var random = new Random(42);
        return Enumerable.Range(0, count).Select(_ => pool[random.Next(pool.Length)]).ToArray();
    }

    private static void WriteCsv(string path, string[] names)
    {
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
        writer.Write("id,last_name,city\r\n");
        for (var i = 0; i < names.Length; i++) writer.Write($"{i},{Quoted(names[i])},City {i % 100}\r\n");
    }

    private static string Quoted(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";
}
