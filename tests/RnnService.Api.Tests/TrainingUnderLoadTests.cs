using System.Net;
using RnnService.Api.Training;
using RnnService.Core.Jobs;

namespace RnnService.Api.Tests;

/// <summary>
/// Training while predictions and forced garbage collections hammer the process. Every collection runs finalizers, so
/// a TorchSharp <c>Scalar</c> left to the finalizer while native code still reads it fails the job ("Expected false to
/// be true … toFloat"); none may be left to it, in training or in inference. Sized so that it failed 3 of 10 jobs before
/// TorchSharp's implicit scalars were replaced: many small batches, hence many tensor operations per job.
/// Runs alone (the fleet tests' collection): it keeps both cores busy, and other tests' timing would suffer.
/// </summary>
[Collection(nameof(ProcessFleet))]
public sealed class TrainingUnderLoadTests
{
    private const int Jobs = 10;

    [Fact]
    public async Task TenJobsSucceedWhilePredictionsAndForcedCollectionsHammerTheProcess()
    {
        await using var app = new RnnServiceApp(modelsDirectory: null, new()
        {
            ["RateLimiting:PredictionsPerWindow"] = "1000000",
            ["RateLimiting:NamesPerWindow"] = "100000000",
            ["RateLimiting:ReadsPerWindow"] = "1000000",
        });
        using var client = app.CreateClientWithKey();
        using var stop = new CancellationTokenSource();
        var predictors = Enumerable.Range(0, 3).Select(_ => Task.Run(() => Predict(client, stop.Token))).ToArray();
        var collector = Task.Run(() => CollectGarbage(stop.Token));

        var outcomes = new List<TrainingJobResponse>();
        for (var i = 0; i < Jobs; i++)
        {
            var started = await client.PostJsonAsync("/api/training", new { members = 1, bidirectional = false, boundaryMarks = false, ngramBuckets = 0, hiddenSize = 64, epochs = 12, batchSize = 2, seed = i });
            Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
            outcomes.Add(await TrainingTests.WaitUntilFinished(client, started.Headers.Location!, TimeSpan.FromMinutes(5)));
        }
        await stop.CancelAsync();
        await collector;
        var predictions = await Task.WhenAll(predictors);

        Assert.All(outcomes, job => Assert.True(job.State == TrainingJobState.Succeeded, $"{job.State}: {job.Error}"));
        Assert.All(predictions, count => Assert.True(count > 0));
    }

    /// <summary>Predicts until stopped; returns how many answered 200 (any other status fails the test).</summary>
    private static async Task<int> Predict(HttpClient client, CancellationToken stop)
    {
        var answered = 0;
        while (!stop.IsCancellationRequested)
        {
            var response = await client.PostJsonAsync("/api/predictions/batch", new { names = new[] { "Lopez", "Ivanov", "Rossini" } });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            answered++;
        }
        return answered;
    }

    private static void CollectGarbage(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }
}
