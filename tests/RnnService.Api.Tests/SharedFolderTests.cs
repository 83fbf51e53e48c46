using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using RnnService.Api.Hosting;
using RnnService.Api.Models;
using RnnService.Api.Predictions;
using RnnService.Core.Storage;

namespace RnnService.Api.Tests;

public sealed class SharedFolderTests
{
    [Fact]
    public async Task AVersionPublishedElsewhereIsServedByEveryInstanceSharingTheFolder()
    {
        using var models = new TemporaryDirectory();
        TinyModel.Seed(models.Path, 1);
        await using var first = new RnnServiceApp(models.Path);
        await using var second = new RnnServiceApp(models.Path);
        using var firstClient = first.CreateClient();
        using var secondClient = second.CreateClientWithKey();
        Assert.Equal(1, await ModelsTests.ServedVersion(firstClient));
        Assert.Equal(1, await ModelsTests.ServedVersion(secondClient));

        // As the command-line trainer does: publish, then make current.
        var store = new ModelStore(models.Path);
        using (var loaded = store.Load(1))
        {
            var published = store.Publish(loaded.Classifier, TinyModel.Manifest);
            store.SetCurrent(published.Version);
        }

        await ModelsTests.WaitFor(async () => await ModelsTests.ServedVersion(firstClient) == 2);
        await ModelsTests.WaitFor(async () => await ModelsTests.ServedVersion(secondClient) == 2);

        // An activation through one instance reaches the other.
        Assert.Equal(HttpStatusCode.OK, (await secondClient.PostAsync("/api/models/1/activate", null)).StatusCode);
        await ModelsTests.WaitFor(async () => await ModelsTests.ServedVersion(firstClient) == 1);
    }

    [Fact]
    public async Task HotSwappingUnderLoadFailsNoRequest()
    {
        await using var app = new RnnServiceApp(modelsDirectory: null, new()
        {
            ["RateLimiting:PredictionsPerWindow"] = "1000000",
            ["RateLimiting:NamesPerWindow"] = "100000000",
        });
        TinyModel.Seed(app.ModelsDirectory, 2);
        using var admin = app.CreateClientWithKey();
        using var client = app.CreateClient();
        var statuses = new ConcurrentBag<HttpStatusCode>();
        var versions = new ConcurrentBag<int>();
        using var stop = new CancellationTokenSource();

        var load = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var response = await client.PostJsonAsync("/api/predictions/batch", new { names = new[] { "Lopez", "Ivanov", "Rossini" } });
                statuses.Add(response.StatusCode);
                if (response.IsSuccessStatusCode) versions.Add((await response.ReadAsync<BatchPredictionResponse>()).ModelVersion);
            }
        })).ToArray();
        for (var swap = 0; swap < 20; swap++)
        {
            var activated = await admin.PostAsync($"/api/models/{2 - swap % 2}/activate", null);
            Assert.Equal(HttpStatusCode.OK, activated.StatusCode);
            await Task.Delay(20);
        }
        await stop.CancelAsync();
        await Task.WhenAll(load);

        Assert.True(statuses.Count > 100, $"only {statuses.Count} requests made");
        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.Equal([1, 2], versions.Distinct().Order());
    }

    [Fact]
    public void AReleasedModelIsFreedOnlyAfterItsLastLease()
    {
        using var models = new TemporaryDirectory();
        TinyModel.Seed(models.Path, 1);
        TinyModel.Seed(models.Path, 2);
        var store = new ModelStore(models.Path);
        using var host = new ModelHost(store, new ServiceMetrics(), NullLogger<ModelHost>.Instance);
        host.Activate(1);

        var lease = host.Acquire()!;
        var first = lease.Model;
        host.Activate(2);

        // The swapped-out model still answers for the request that holds it...
        Assert.Equal(1, first.Manifest.Version);
        Assert.Equal(3, first.Classifier.Predict(["lopez"])[0].Length);
        Assert.Equal(3, first.Classifier.PredictWithTorch(["lopez"])[0].Length);
        lease.Dispose();
        // ...and its native (TorchSharp) memory is freed once that request is done.
        var error = Record.Exception(() => first.Classifier.PredictWithTorch(["lopez"]));
        Assert.NotNull(error);
        Assert.Contains("empty handle", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, host.Acquire()!.Model.Manifest.Version);
    }
}
