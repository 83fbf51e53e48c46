using System.Diagnostics;
using System.Net;
using System.Text.Json;
using RnnService.Api.Training;
using RnnService.Core.Storage;
using RnnService.Core.Jobs;

namespace RnnService.Api.Tests;

/// <summary>Broken model files on disk: each is refused with one log line naming the file and why, and serving goes on.</summary>
public sealed class BadFilesTests
{
    public static readonly TheoryData<string, string> Corruptions = new()
    {
        { "truncated weights", "checksum" },
        { "flipped bytes", "checksum" },
        { "checksum mismatch", "checksum" },
        { "unparsable manifest", "manifest cannot be read" },
        { "missing weights", "weights file is missing" },
        { "different vocabulary size", "vocabulary does not match the architecture" },
        { "weights of another architecture", "weights do not fit" },
    };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public async Task ABrokenVersionIsRefusedWithOneLogLineAndTheWorkingOneKeepsServing(string corruption, string reason)
    {
        await using var app = new RnnServiceApp(modelsDirectory: null, new() { ["Serilog:MinimumLevel:Default"] = "Warning" });
        using var client = app.CreateClient();
        Assert.Equal(1, await ModelsTests.ServedVersion(client));
        // Pinned first: in a folder without a pointer the newest version is current, and the watcher would race the writes below.
        app.Store.SetCurrent(1);
        TinyModel.Seed(app.ModelsDirectory, 2);
        var broken = Corrupt(Path.Combine(app.ModelsDirectory, "2"), corruption);

        app.Store.SetCurrent(2);
        string[] Refusals() => app.Logs.Lines.Where(line => line.StartsWith("Model version 2 cannot be served", StringComparison.Ordinal)).ToArray();
        await ModelsTests.WaitFor(() => Task.FromResult(Refusals().Length > 0));
        await Task.Delay(500); // several more poll intervals, in which it must not be logged again

        Assert.Equal(1, await ModelsTests.ServedVersion(client));
        var refusal = Assert.Single(Refusals());
        Assert.Contains(broken, refusal, StringComparison.Ordinal);
        Assert.Contains(reason, refusal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WhenNoValidVersionIsLeftReadinessSaysSo()
    {
        using var models = new TemporaryDirectory();
        TinyModel.Seed(models.Path, 1);
        Corrupt(Path.Combine(models.Path, "1"), "flipped bytes");
        await using var app = new RnnServiceApp(models.Path);
        using var client = app.CreateClient();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.PostJsonAsync("/api/predictions", new { name = "Lopez" })).StatusCode);
    }

    [Fact]
    public async Task AnUnwritableModelsFolderFailsTheTrainingJobClearlyAndServingGoesOn()
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClientWithKey();
        Assert.Equal(1, await ModelsTests.ServedVersion(client));
        SetImmutable(app.ModelsDirectory, true); // even root cannot create files in it
        try
        {
            var started = await client.PostJsonAsync("/api/training", new { members = 1, hiddenSize = 8, epochs = 2 });
            var job = await TrainingTests.WaitUntilFinished(client, started.Headers.Location!);

            Assert.Equal(TrainingJobState.Failed, job.State);
            Assert.Contains("models/", job.Error, StringComparison.Ordinal);              // which folder, in its short name:
            Assert.DoesNotContain(app.ModelsDirectory, job.Error, StringComparison.Ordinal);  // anyone may list jobs
            Assert.Null(job.ModelVersion);
            Assert.Equal(1, await ModelsTests.ServedVersion(client));
        }
        finally
        {
            SetImmutable(app.ModelsDirectory, false);
        }
        Assert.Equal(["1"], RnnServiceApp.ModelFolderEntries(app.ModelsDirectory));
    }

    /// <summary>Breaks one version folder as named; returns the path of the file a refusal should name.</summary>
    private static string Corrupt(string folder, string corruption)
    {
        var weights = Path.Combine(folder, ModelStore.WeightsFile);
        var manifest = Path.Combine(folder, ModelStore.ManifestFile);
        switch (corruption)
        {
            case "truncated weights":
                File.WriteAllBytes(weights, File.ReadAllBytes(weights)[..100]);
                return weights;
            case "flipped bytes":
                var bytes = File.ReadAllBytes(weights);
                bytes[^10] ^= 0x5A;
                File.WriteAllBytes(weights, bytes);
                return weights;
            case "checksum mismatch":
                File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"weightsSha256\": \"", "\"weightsSha256\": \"00", StringComparison.Ordinal));
                return weights;
            case "unparsable manifest":
                File.WriteAllText(manifest, "{ \"version\": 2, ");
                return manifest;
            case "missing weights":
                File.Delete(weights);
                return weights;
            case "different vocabulary size":
                var document = JsonDocument.Parse(File.ReadAllText(manifest)).RootElement.GetProperty("vocabulary").GetString()!;
                File.WriteAllText(manifest, File.ReadAllText(manifest).Replace($"\"vocabulary\": {JsonSerializer.Serialize(document)}", $"\"vocabulary\": {JsonSerializer.Serialize(document[1..])}", StringComparison.Ordinal));
                return manifest;
            case "weights of another architecture":
                // A consistent manifest (its own checksum, a matching vocabulary) whose weights are the wrong shape.
                var text = File.ReadAllText(manifest);
                var hidden = JsonDocument.Parse(text).RootElement.GetProperty("architecture").GetProperty("hiddenSize").GetInt32();
                File.WriteAllText(manifest, text.Replace($"\"hiddenSize\": {hidden},", $"\"hiddenSize\": {hidden + 1},", StringComparison.Ordinal));
                return weights;
            default:
                throw new ArgumentOutOfRangeException(nameof(corruption), corruption, null);
        }
    }

    internal static void SetImmutable(string path, bool immutable)
    {
        using var chattr = Process.Start("chattr", [immutable ? "+i" : "-i", path])!;
        chattr.WaitForExit();
        Assert.Equal(0, chattr.ExitCode);
    }
}
