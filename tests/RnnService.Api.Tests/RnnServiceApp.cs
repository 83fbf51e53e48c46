using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Core;
using Serilog.Events;
using RnnService.Core.Jobs;
using RnnService.Core.Storage;

namespace RnnService.Api.Tests;

/// <summary>
/// The API in-process, with its own models folder (by default seeded with the tiny model as version 1), the synthetic
/// names data for training, a known API key and a fast poll interval.
/// </summary>
public sealed class RnnServiceApp : WebApplicationFactory<Program>
{
    public const string ApiKey = "test-api-key";

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private readonly TemporaryDirectory? ownModels;
    private readonly TemporaryDirectory data = new();
    private readonly Dictionary<string, string?> settings;

    public RnnServiceApp()
        : this(null, null)
    {
    }

    /// <param name="modelsDirectory">A models folder to share with other apps; by default a new one seeded with version 1.</param>
    /// <param name="settings">Configuration overrides, e.g. <c>["RateLimiting:PredictionsPerWindow"] = "3"</c>.</param>
    internal RnnServiceApp(string? modelsDirectory, Dictionary<string, string?>? settings = null)
    {
        if (modelsDirectory is null)
        {
            ownModels = new TemporaryDirectory();
            TinyModel.Seed(ownModels.Path, 1);
        }
        ModelsDirectory = modelsDirectory ?? ownModels!.Path;
        TestData.WriteDirectory(data);
        this.settings = settings ?? [];
    }

    public string ModelsDirectory { get; }

    /// <summary>Every log event the app wrote (at the configured minimum level).</summary>
    public CapturedLogs Logs { get; } = new();

    public ModelStore Store => new(ModelsDirectory);

    /// <summary>What a models folder holds besides the job store's SQLite files (the database and its write-ahead log).</summary>
    public static IEnumerable<string?> ModelFolderEntries(string folder) =>
        Directory.EnumerateFileSystemEntries(folder).Select(Path.GetFileName).Where(name => !name!.StartsWith(SqliteJobStore.FileName, StringComparison.Ordinal));

    public HttpClient CreateClientWithKey(string key = ApiKey)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Serving:ModelsDirectory", ModelsDirectory);
        builder.UseSetting("Serving:PollInterval", "00:00:00.100");
        builder.UseSetting("Training:DataDirectory", data.Path);
        builder.UseSetting("Training:PollInterval", "00:00:00.050");
        builder.UseSetting("Security:ApiKey", ApiKey);
        builder.UseSetting("Serilog:MinimumLevel:Default", "Warning");
        foreach (var (key, value) in settings) builder.UseSetting(key, value);
        builder.ConfigureServices(services => services.AddSingleton<ILogEventSink>(Logs));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            ownModels?.Dispose();
            data.Dispose();
        }
    }
}

/// <summary>A Serilog sink that keeps every rendered event, so tests can read what the service logged.</summary>
public sealed class CapturedLogs : ILogEventSink
{
    private readonly ConcurrentQueue<string> lines = new();

    public IReadOnlyCollection<string> Lines => lines;

    public void Emit(LogEvent logEvent) =>
        lines.Enqueue($"{logEvent.RenderMessage(CultureInfo.InvariantCulture)} {string.Join(' ', logEvent.Properties.Select(p => $"{p.Key}={p.Value}"))} {logEvent.Exception}");
}

internal static class HttpExtensions
{
    public static Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string url, object body) =>
        client.PostAsJsonAsync(url, body, RnnServiceApp.Json);

    public static async Task<T> ReadAsync<T>(this HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<T>(RnnServiceApp.Json))!;

    /// <summary>
    /// The problem-details body, after checking the media type RFC 9457 prescribes and the service's one error style: a
    /// type URI per kind (/problems/{code}), the machine-readable code (the expected one, if given), a title and a detail.
    /// </summary>
    public static async Task<JsonElement> ReadProblemAsync(this HttpResponseMessage response, string? code = null)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((int)response.StatusCode, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
        var actualCode = problem.GetProperty("code").GetString();
        if (code is not null) Assert.Equal(code, actualCode);
        Assert.Equal($"/problems/{actualCode}", problem.GetProperty("type").GetString());
        return problem;
    }
}
