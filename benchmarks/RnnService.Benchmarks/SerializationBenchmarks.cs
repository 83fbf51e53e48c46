using System.Text.Json;
using System.Text.Json.Serialization;
using BenchmarkDotNet.Attributes;

namespace RnnService.Benchmarks;

/// <summary>
/// Writing one prediction answer (18 languages) as JSON: reflection-based System.Text.Json, as MVC does by default, versus
/// a source-generated contract. The records mirror the shape of the API's PredictionResponse without depending on it.
/// </summary>
[Config(typeof(ShortInProcessConfig))]
public class SerializationBenchmarks : IDisposable
{
    private static readonly JsonSerializerOptions Reflection = new(JsonSerializerDefaults.Web);
    private readonly MemoryStream buffer = new();
    private Utf8JsonWriter writer = null!;
    private BenchPrediction response = null!;

    [GlobalSetup]
    public void Setup()
    {
        writer = new Utf8JsonWriter(buffer);
        var languages = Enumerable.Range(0, 18).Select(k => new BenchLanguage("Language" + k, 1.0 / (k + 2))).ToArray();
        response = new BenchPrediction("Nakamura", "nakamura", languages, 1);
    }

    [GlobalCleanup]
    public void Dispose()
    {
        writer.Dispose();
        buffer.Dispose();
        GC.SuppressFinalize(this);
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Json")]
    public long JsonReflection()
    {
        buffer.SetLength(0);
        writer.Reset();
        JsonSerializer.Serialize(writer, response, Reflection);
        return buffer.Length;
    }

    [Benchmark, BenchmarkCategory("Json")]
    public long JsonSourceGenerated()
    {
        buffer.SetLength(0);
        writer.Reset();
        JsonSerializer.Serialize(writer, response, BenchJsonContext.Default.BenchPrediction);
        return buffer.Length;
    }
}

public sealed record BenchLanguage(string Language, double Probability);

public sealed record BenchPrediction(string Name, string NormalizedName, IReadOnlyList<BenchLanguage> Languages, int ModelVersion);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(BenchPrediction))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;
