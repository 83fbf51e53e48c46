using System.Net;
using System.Text.Json;
using RnnService.Api.Models;
using RnnService.Api.Predictions;
using RnnService.Core.Storage;

namespace RnnService.Api.Tests;

public sealed class ModelsTests
{
    [Fact]
    public async Task VersionsAreListedWithTheirMetricsAndWhichOneIsServed()
    {
        await using var app = new RnnServiceApp();
        TinyModel.Seed(app.ModelsDirectory, 2);
        app.Store.SetCurrent(1);
        using var client = app.CreateClient();

        var models = await (await client.GetAsync("/api/models")).ReadAsync<ModelSummary[]>();

        Assert.Equal([1, 2], models.Select(m => m.Version));
        Assert.Equal([true, false], models.Select(m => m.Current));
        Assert.Equal(TinyModel.Manifest.Metrics.Test.Accuracy, models[0].TestAccuracy);
        Assert.Equal(TinyModel.Config.HiddenSize, models[0].HiddenSize);
    }

    [Fact]
    public async Task AVersionsManifestCarriesScoresAndConfusionMatrix()
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClient();

        var manifest = await (await client.GetAsync("/api/models/1")).ReadAsync<JsonElement>();
        var current = await (await client.GetAsync("/api/models/current")).ReadAsync<ModelManifest>();

        Assert.Equal(1, manifest.GetProperty("version").GetInt32());
        Assert.Equal(3, manifest.GetProperty("metrics").GetProperty("test").GetProperty("confusionMatrix").GetArrayLength());
        Assert.Equal(3, manifest.GetProperty("metrics").GetProperty("test").GetProperty("languages").GetArrayLength());
        Assert.Equal("Orthogonal", manifest.GetProperty("training").GetProperty("initialization").GetString());
        Assert.Equal(1, current.Version);
        Assert.Equal(TestData.Languages, current.Languages);
    }

    [Fact]
    public async Task AnUnknownVersionIsNotFound()
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClientWithKey();

        foreach (var response in new[] { await client.GetAsync("/api/models/9"), await client.PostAsync("/api/models/9/activate", null) })
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            await response.ReadProblemAsync();
        }
    }

    [Fact]
    public async Task ActivatingAVersionServesItAndRecordsItInTheSharedFolder()
    {
        await using var app = new RnnServiceApp();
        TinyModel.Seed(app.ModelsDirectory, 2);
        app.Store.SetCurrent(2);
        using var client = app.CreateClientWithKey();
        Assert.Equal(2, await ServedVersion(client));

        var activated = await client.PostAsync("/api/models/1/activate", null);

        Assert.Equal(HttpStatusCode.OK, activated.StatusCode);
        Assert.Equal(1, (await activated.ReadAsync<ModelManifest>()).Version);
        Assert.Equal(1, await ServedVersion(client));
        Assert.Equal(1, app.Store.CurrentVersion());
    }

    [Fact]
    public async Task ActivationNeedsTheApiKey()
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClient();

        var response = await client.PostAsync("/api/models/1/activate", null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        await response.ReadProblemAsync();
    }

    [Fact]
    public async Task ACorruptVersionIsRefusedAndTheServedModelKeepsAnswering()
    {
        await using var app = new RnnServiceApp();
        TinyModel.Seed(app.ModelsDirectory, 2);
        File.WriteAllText(Path.Combine(app.ModelsDirectory, "2", ModelStore.WeightsFile), "truncated");
        app.Store.SetCurrent(1);
        using var client = app.CreateClientWithKey();

        var response = await client.PostAsync("/api/models/2/activate", null);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var detail = (await response.ReadProblemAsync("model-unusable")).GetProperty("detail").GetString();
        Assert.StartsWith("Model version 2 cannot be served: models/2/weights.bin: checksum", detail, StringComparison.Ordinal);
        Assert.DoesNotContain(app.ModelsDirectory, detail, StringComparison.Ordinal);   // the file, not its path on the server
        Assert.Equal(1, await ServedVersion(client));
        Assert.Equal(1, app.Store.CurrentVersion());
    }

    [Fact]
    public async Task APointerToACorruptVersionLeavesTheServedModelInPlace()
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClient();
        Assert.Equal(1, await ServedVersion(client));
        TinyModel.Seed(app.ModelsDirectory, 2);
        File.Delete(Path.Combine(app.ModelsDirectory, "2", ModelStore.WeightsFile));

        app.Store.SetCurrent(2);
        await Task.Delay(500); // several poll intervals

        Assert.Equal(1, await ServedVersion(client));
    }

    [Fact]
    public async Task WithoutAnyValidModelReadinessFailsAndPredictionsAnswer503()
    {
        using var empty = new TemporaryDirectory();
        await using var app = new RnnServiceApp(empty.Path);
        using var client = app.CreateClient();

        var ready = await client.GetAsync("/health/ready");
        var live = await client.GetAsync("/health/live");
        var prediction = await client.PostJsonAsync("/api/predictions", new { name = "Lopez" });
        var current = await client.GetAsync("/api/models/current");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, prediction.StatusCode);
        await prediction.ReadProblemAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, current.StatusCode);

        TinyModel.Seed(empty.Path, 1);
        await WaitFor(async () => (await client.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK);
        Assert.Equal(1, await ServedVersion(client));
    }

    [Fact]
    public async Task ReadinessReportsTheServedVersion()
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClient();

        var ready = await client.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var body = await ready.ReadAsync<JsonElement>();
        Assert.Equal("Healthy", body.GetProperty("status").GetString());
        Assert.Equal(1, body.GetProperty("modelVersion").GetInt32());
    }

    internal static async Task<int> ServedVersion(HttpClient client) =>
        (await (await client.PostJsonAsync("/api/predictions", new { name = "Lopez" })).ReadAsync<PredictionResponse>()).ModelVersion;

    internal static async Task WaitFor(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 10 s");
            await Task.Delay(50);
        }
    }
}
