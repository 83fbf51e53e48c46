using System.Diagnostics;
using System.Net;
using System.Text.Json;
using RnnService.Core.Storage;

namespace RnnService.Api.Tests;

/// <summary>
/// Whatever the shared models folder holds, the service keeps running and answers without a 5xx; the last good model
/// wins over a broken pointer or version, and repairs are noticed without a restart.
/// </summary>
public sealed class ModelsFolderTests
{
    [Fact]
    public async Task EveryBrokenManifestFieldIsAnsweredWithoutA5xxAndTheServiceKeepsServing()
    {
        await using var app = new RnnServiceApp(modelsDirectory: null, new() { ["RateLimiting:ReadsPerWindow"] = "1000000" });
        using var client = app.CreateClientWithKey();
        TinyModel.Seed(app.ModelsDirectory, 2, trainingJob: Guid.NewGuid()); // every optional field present, so broken too
        var manifest = Path.Combine(app.ModelsDirectory, "2", ModelStore.ManifestFile);
        var (variants, refused) = (0, 0);

        foreach (var (description, json) in ManifestVariants.Of(File.ReadAllText(manifest)))
        {
            File.WriteAllText(manifest, json);
            variants++;
            var activated = await client.PostAsync("/api/models/2/activate", null);
            Assert.True(activated.StatusCode is HttpStatusCode.OK or HttpStatusCode.UnprocessableEntity, $"{description}: activate {activated.StatusCode}");
            if (activated.StatusCode == HttpStatusCode.OK) Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/api/models/1/activate", null)).StatusCode);
            else refused++;
            foreach (var read in new[] { "/api/models", "/api/models/2", "/api/models/2/card", "/api/models/2/card?format=markdown" })
            {
                var status = (await client.GetAsync(read)).StatusCode;
                Assert.True(status is HttpStatusCode.OK or HttpStatusCode.NotFound, $"{description}: GET {read} {status}");
            }
        }

        Assert.True(variants >= 200 && refused >= variants / 2, $"{refused} of {variants} variants refused");
        Assert.Equal(1, await ModelsTests.ServedVersion(client));
        // The watcher follows a pointer to the (now broken) version 2 and survives it too.
        File.WriteAllText(Path.Combine(app.ModelsDirectory, ModelStore.CurrentFile), "2\n");
        await ModelsTests.WaitFor(async () => (await Readiness(client)).Status == "Degraded");
        Assert.Equal(1, await ModelsTests.ServedVersion(client));
    }

    [Fact]
    public async Task ABrokenPointerKeepsTheLastGoodModelLogsOnceAndNeverEchoesItsText()
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClientWithKey();
        TinyModel.Seed(app.ModelsDirectory, 2);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/api/models/2/activate", null)).StatusCode);

        File.WriteAllText(Path.Combine(app.ModelsDirectory, ModelStore.CurrentFile), new string('Z', 1 << 20));
        await ModelsTests.WaitFor(async () => (await Readiness(client)).Status == "Degraded");
        await Task.Delay(500); // several more polls, which must not log it again

        var (status, code, description) = await Readiness(client);
        Assert.Equal(HttpStatusCode.OK, code);
        Assert.Contains("larger than 64 bytes", description, StringComparison.Ordinal);
        Assert.Contains("serving version 2", description, StringComparison.Ordinal);
        Assert.Equal(2, await ModelsTests.ServedVersion(client));
        Assert.Single(app.Logs.Lines, line => line.StartsWith("Models folder problem", StringComparison.Ordinal));
        Assert.DoesNotContain(app.Logs.Lines, line => line.Contains("ZZZZ", StringComparison.Ordinal));

        app.Store.SetCurrent(1); // repaired: followed at the next poll
        await ModelsTests.WaitFor(async () => await ModelsTests.ServedVersion(client) == 1);
        Assert.Equal("Healthy", (await Readiness(client)).Status);
    }

    [Fact]
    public async Task AtStartupABrokenPointerServesTheLastPromotedVersionNeverMerelyTheNewest()
    {
        using var models = new TemporaryDirectory();
        foreach (var version in new[] { 1, 2, 3 }) TinyModel.Seed(models.Path, version);
        var store = new ModelStore(models.Path);
        store.SetCurrent(1);
        store.SetCurrent(2); // 3 was published but never promoted
        File.WriteAllText(Path.Combine(models.Path, ModelStore.CurrentFile), "junk");

        await using var app = new RnnServiceApp(models.Path);
        using var client = app.CreateClient();

        Assert.Equal(2, await ModelsTests.ServedVersion(client));
        Assert.Equal("Degraded", (await Readiness(client)).Status);
    }

    [Fact]
    public async Task ACorruptCurrentVersionAtStartupFallsBackAndIsServedOnceRepaired()
    {
        using var models = new TemporaryDirectory();
        TinyModel.Seed(models.Path, 1);
        TinyModel.Seed(models.Path, 2);
        new ModelStore(models.Path).SetCurrent(1);
        new ModelStore(models.Path).SetCurrent(2);
        var weights = Path.Combine(models.Path, "2", ModelStore.WeightsFile);
        var good = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, good[..100]);

        await using var app = new RnnServiceApp(models.Path);
        using var client = app.CreateClient();
        Assert.Equal(1, await ModelsTests.ServedVersion(client));
        Assert.Contains("version 2", (await Readiness(client)).Description, StringComparison.Ordinal);

        File.WriteAllBytes(weights, good);
        await ModelsTests.WaitFor(async () => await ModelsTests.ServedVersion(client) == 2);
        Assert.Equal("Healthy", (await Readiness(client)).Status);
    }

    [Fact]
    public async Task AFifoInPlaceOfThePointerBlocksNeitherTheWatcherNorActivations()
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClientWithKey();
        app.Store.SetCurrent(1);
        var pointer = Path.Combine(app.ModelsDirectory, ModelStore.CurrentFile);
        File.Delete(pointer);
        using (var mkfifo = Process.Start("mkfifo", [pointer])) await mkfifo.WaitForExitAsync();

        await ModelsTests.WaitFor(async () => (await Readiness(client)).Description.Contains("not a regular file", StringComparison.Ordinal));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/api/models/1/activate", null, timeout.Token)).StatusCode);
        Assert.Equal("1", File.ReadAllText(pointer).Trim()); // the FIFO was replaced by a real pointer
    }

    [Fact]
    public async Task ActivationThatCannotWriteThePointerAnswers503AndNeverServesTheNewVersion()
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClientWithKey();
        TinyModel.Seed(app.ModelsDirectory, 2);
        app.Store.SetCurrent(1);
        BadFilesTests.SetImmutable(app.ModelsDirectory, true);
        try
        {
            var activated = await client.PostAsync("/api/models/2/activate", null);

            Assert.Equal(HttpStatusCode.ServiceUnavailable, activated.StatusCode);
            var problem = await activated.ReadProblemAsync();
            Assert.Contains("cannot be written", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.DoesNotContain(app.ModelsDirectory, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Equal(1, await ModelsTests.ServedVersion(client));
            await Task.Delay(300);
            Assert.Equal(1, await ModelsTests.ServedVersion(client));
        }
        finally
        {
            BadFilesTests.SetImmutable(app.ModelsDirectory, false);
        }
        Assert.DoesNotContain(Directory.EnumerateFiles(app.ModelsDirectory), file => file.EndsWith(".tmp", StringComparison.Ordinal));
    }

    private static async Task<(string Status, HttpStatusCode Code, string Description)> Readiness(HttpClient client)
    {
        var response = await client.GetAsync("/health/ready");
        var body = await response.ReadAsync<JsonElement>();
        return (body.GetProperty("status").GetString()!, response.StatusCode, body.GetProperty("description").GetString()!);
    }
}
