using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RnnService.Api.Hosting;
using RnnService.Api.Predictions;

namespace RnnService.Api.Tests;

/// <summary>No client can starve the others: limits count names, bulk work takes turns, wrong keys and reads are limited.</summary>
public sealed class FairnessTests
{
    [Fact]
    public async Task RateLimitsCountNamesNotRequests()
    {
        await using var app = new RnnServiceApp(modelsDirectory: null, new() { ["RateLimiting:NamesPerWindow"] = "1000", ["RateLimiting:Window"] = "00:01:00" });
        using var client = app.CreateClient();

        var batch = await client.PostJsonAsync("/api/predictions/batch", new { names = Enumerable.Repeat("Lopez", 1000) });
        var single = await client.PostJsonAsync("/api/predictions", new { name = "Lopez" });

        Assert.Equal(HttpStatusCode.OK, batch.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, single.StatusCode);
        Assert.InRange(int.Parse(single.Headers.RetryAfter!.ToString(), System.Globalization.CultureInfo.InvariantCulture), 1, 60);
        Assert.Contains("1000 names", (await single.ReadProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BulkWorkTakesTurnsWhileSingleNamesAreAnsweredAtOnce()
    {
        await using var app = new RnnServiceApp(modelsDirectory: null, new() { ["RateLimiting:BulkConcurrency"] = "1", ["RateLimiting:BulkQueue"] = "1" });
        using var client = app.CreateClient();
        var limits = app.Services.GetRequiredService<ClientLimits>();

        using (await limits.EnterBulkAsync(CancellationToken.None))
        {
            var queued = client.PostJsonAsync("/api/predictions/batch", new { names = new[] { "Lopez", "Rossini" } });
            await ModelsTests.WaitFor(() => Task.FromResult(limits.BulkWaiting == 1));
            var refused = await client.PostJsonAsync("/api/predictions/explain", new { name = "Lopez" });
            var single = await client.PostJsonAsync("/api/predictions", new { name = "Lopez" });

            Assert.False(queued.IsCompleted);                                       // waiting for its turn
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);    // the queue (of one) is full
            Assert.NotNull(refused.Headers.RetryAfter);
            Assert.Equal(HttpStatusCode.OK, single.StatusCode);                     // never queued behind bulk work
            await refused.ReadProblemAsync();
        }
    }

    [Fact]
    public async Task TooManyWrongKeysLockTheClientOutForAWhile()
    {
        await using var app = new RnnServiceApp(modelsDirectory: null, new() { ["RateLimiting:FailedKeysPerWindow"] = "3" });
        using var wrong = app.CreateClientWithKey("wrong-key");
        using var right = app.CreateClientWithKey();

        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.PostAsync("/api/models/1/activate", null)).StatusCode);
        var lockedOut = await right.PostAsync("/api/models/1/activate", null); // the same client (address), now with the right key

        Assert.Equal(HttpStatusCode.TooManyRequests, lockedOut.StatusCode);
        Assert.NotNull(lockedOut.Headers.RetryAfter);
        Assert.Contains("wrong API keys", (await lockedOut.ReadProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadsOfModelsAndJobsAreLimitedPerClient()
    {
        await using var app = new RnnServiceApp(modelsDirectory: null, new() { ["RateLimiting:ReadsPerWindow"] = "5", ["RateLimiting:Window"] = "00:01:00" });
        using var client = app.CreateClient();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++) statuses.Add((await client.GetAsync(i % 2 == 0 ? "/api/models" : "/api/training")).StatusCode);

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.OK, 5), HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task TheListingReadsManifestsOncePerSetOfVersions()
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClient();
        Assert.Single(await (await client.GetAsync("/api/models")).ReadAsync<JsonElement[]>());
        // Edited in place (which publishing never does): the cached listing is not read again...
        File.WriteAllText(Path.Combine(app.ModelsDirectory, "1", "manifest.json"), "{ broken");
        Assert.Single(await (await client.GetAsync("/api/models")).ReadAsync<JsonElement[]>());

        TinyModel.Seed(app.ModelsDirectory, 2); // ...until the set of versions changes.
        var listed = await (await client.GetAsync("/api/models")).ReadAsync<JsonElement[]>();

        Assert.Equal(2, Assert.Single(listed).GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task ANamePaddedWithWhitespaceIsTidiedBeforeItsLengthCheckAndEchoedTidy()
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClient();

        var response = await client.PostJsonAsync("/api/predictions", new { name = "  Lopez" + new string(' ', 250_000) + "Garcia \t" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(response.Content.Headers.ContentLength is null or < 10_000);
        var prediction = await response.ReadAsync<PredictionResponse>();
        Assert.Equal("Lopez Garcia", prediction.Name);
        Assert.Equal("lopez garcia", prediction.NormalizedName);
    }

    [Fact]
    public void KestrelLimitsCapConnectionsAndCutOffSlowClients()
    {
        using var app = new RnnServiceApp();
        var limits = app.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;

        Assert.Equal(1000, limits.MaxConcurrentConnections);
        Assert.Equal(262_144, limits.MaxRequestBodySize);
        Assert.Equal(TimeSpan.FromSeconds(10), limits.RequestHeadersTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), limits.KeepAliveTimeout);
        Assert.Equal(2048, limits.MinRequestBodyDataRate!.BytesPerSecond);
    }
}
