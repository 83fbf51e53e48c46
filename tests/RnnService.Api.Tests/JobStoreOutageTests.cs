using System.Net;
using System.Text.Json;
using RnnService.Api.Predictions;
using RnnService.Api.Training;
using RnnService.Core.Jobs;

namespace RnnService.Api.Tests;

public sealed class JobStoreOutageTests
{
    [Fact]
    public async Task WithTheJobStoreDownPredictionsGoOnJobEndpointsAnswer503AndReadinessNamesTheStore()
    {
        await using var app = new RnnServiceApp(modelsDirectory: null, new() { ["ConnectionStrings:Jobs"] = TestPostgres.Unreachable() });
        using var client = app.CreateClientWithKey();

        var prediction = await client.PostJsonAsync("/api/predictions", new { name = "Lopez" });
        Assert.Equal(HttpStatusCode.OK, prediction.StatusCode);
        Assert.Equal(1, (await prediction.ReadAsync<PredictionResponse>()).ModelVersion);

        foreach (var response in new[]
        {
            await client.GetAsync("/api/training"),
            await client.GetAsync($"/api/training/{Guid.NewGuid()}"),
            await client.PostJsonAsync("/api/training", new { epochs = 1 }),
            await client.DeleteAsync($"/api/training/{Guid.NewGuid()}"),
        })
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            var problem = await response.ReadProblemAsync();
            Assert.Equal("The training job store is unavailable.", problem.GetProperty("title").GetString());
            Assert.Equal("job-store-unavailable", problem.GetProperty("code").GetString());
            Assert.Contains("predictions are unaffected", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // Still ready (it serves predictions), and the report says which dependency is down.
        var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var report = await ready.ReadAsync<JsonElement>();
        Assert.Equal("Degraded", report.GetProperty("status").GetString());
        Assert.Equal(1, report.GetProperty("modelVersion").GetInt32());
        var jobStore = report.GetProperty("checks").GetProperty("jobStore");
        Assert.Equal("Degraded", jobStore.GetProperty("status").GetString());
        Assert.Contains("PostgreSQL", jobStore.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal("Healthy", report.GetProperty("checks").GetProperty("model").GetProperty("status").GetString());
    }

    [Fact]
    public async Task AnInstanceWithTheWorkerOffQueuesJobsWithoutRunningThem()
    {
        await using var app = new RnnServiceApp(modelsDirectory: null, new() { ["Training:RunWorker"] = "false" });
        using var client = app.CreateClientWithKey();

        var started = await client.PostJsonAsync("/api/training", new { epochs = 1 });
        await Task.Delay(500); // many poll intervals of a worker, were there one

        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        Assert.Equal(TrainingJobState.Queued, (await (await client.GetAsync(started.Headers.Location)).ReadAsync<TrainingJobResponse>()).State);
        var ready = await (await client.GetAsync("/health/ready")).ReadAsync<JsonElement>();
        Assert.Equal("Healthy", ready.GetProperty("checks").GetProperty("jobStore").GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Accepted, (await client.DeleteAsync(started.Headers.Location)).StatusCode);
        Assert.Equal(TrainingJobState.Cancelled, (await (await client.GetAsync(started.Headers.Location)).ReadAsync<TrainingJobResponse>()).State);
    }
}
