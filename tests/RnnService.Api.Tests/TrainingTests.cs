using System.Net;
using RnnService.Api.Predictions;
using RnnService.Api.Training;
using RnnService.Core.Jobs;

namespace RnnService.Api.Tests;

public sealed class TrainingTests
{
    private static readonly object TinyJob = new { members = 1, hiddenSize = 16, epochs = 4, batchSize = 16, learningRate = 0.02, seed = 5 };

    /// <summary>Long enough to still be running when the test acts on it (a few seconds), short enough to finish if not cancelled.</summary>
    private static readonly object LongJob = new { members = 1, hiddenSize = 16, epochs = 200, batchSize = 4, earlyStoppingPatience = 0 };

    [Fact]
    public async Task ATrainingJobPublishesANewVersionThatPredictionsThenReport()
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClientWithKey();

        var started = await client.PostJsonAsync("/api/training", TinyJob);

        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        Assert.NotNull(started.Headers.Location);
        var job = await WaitUntilFinished(client, started.Headers.Location!);
        Assert.Equal(TrainingJobState.Succeeded, job.State);
        Assert.Equal(2, job.ModelVersion);
        Assert.Equal(4, job.Epochs.Count);
        Assert.Equal([1, 2, 3, 4], job.Epochs.Select(e => e.Epoch));
        Assert.Equal(16, job.Config.HiddenSize);
        Assert.True(job.Promoted);
        Assert.NotNull(job.StartedAt);
        Assert.True(job.FinishedAt >= job.StartedAt);
        Assert.Equal(2, app.Store.CurrentVersion());

        var prediction = await (await client.PostJsonAsync("/api/predictions", new { name = "Lopez" })).ReadAsync<PredictionResponse>();
        Assert.Equal(2, prediction.ModelVersion);
        var listed = await (await client.GetAsync("/api/training")).ReadAsync<TrainingJobResponse[]>();
        Assert.Equal(job.Id, Assert.Single(listed).Id);
    }

    [Fact]
    public async Task ASecondJobWhileOneIsActiveIsAConflictNamingTheActiveJob()
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClientWithKey();
        var first = await (await client.PostJsonAsync("/api/training", LongJob)).ReadAsync<TrainingJobResponse>();

        var second = await client.PostJsonAsync("/api/training", TinyJob);

        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        var problem = await second.ReadProblemAsync();
        Assert.Equal(first.Id.ToString(), problem.GetProperty("jobId").GetString());
        Assert.Contains(first.Id.ToString(), problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await client.DeleteAsync($"/api/training/{first.Id}");
    }

    [Fact]
    public async Task ACancelledJobEndsCancelledAndPublishesNothing()
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClientWithKey();
        var started = await client.PostJsonAsync("/api/training", LongJob);
        var job = await started.ReadAsync<TrainingJobResponse>();
        await WaitUntil(client, started.Headers.Location!, j => j.Epochs.Count > 0);

        var cancelled = await client.DeleteAsync($"/api/training/{job.Id}");

        Assert.Equal(HttpStatusCode.Accepted, cancelled.StatusCode);
        var finished = await WaitUntilFinished(client, started.Headers.Location!);
        Assert.Equal(TrainingJobState.Cancelled, finished.State);
        Assert.Null(finished.ModelVersion);
        Assert.Equal([1], app.Store.Versions());
        Assert.Equal(["1"], RnnServiceApp.ModelFolderEntries(app.ModelsDirectory));
        var again = await client.DeleteAsync($"/api/training/{job.Id}");
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        await again.ReadProblemAsync();
    }

    [Fact]
    public async Task AModelClearlyWorseOnValidationIsPublishedButNotPromoted()
    {
        await using var app = new RnnServiceApp(modelsDirectory: null, new() { ["Training:PromotionTolerance"] = "0" });
        // Pretend the served version is perfect on validation, so the new model cannot match it.
        TinyModel.Seed(app.ModelsDirectory, 1, manifest => manifest.Replace("\"macroF1\":", "\"macroF1\": 1.0, \"ignored\":", StringComparison.Ordinal));
        using var client = app.CreateClientWithKey();

        var started = await client.PostJsonAsync("/api/training", new { members = 1, hiddenSize = 8, epochs = 1, learningRate = 0.0001 });
        var job = await WaitUntilFinished(client, started.Headers.Location!);

        Assert.Equal(TrainingJobState.Succeeded, job.State);
        Assert.False(job.Promoted);
        Assert.Contains("is more than 0 below version 1's 1.0000", job.PromotionNote, StringComparison.Ordinal);
        Assert.Equal([1, 2], app.Store.Versions());
        Assert.Equal(1, app.Store.CurrentVersion());
        var prediction = await (await client.PostJsonAsync("/api/predictions", new { name = "Lopez" })).ReadAsync<PredictionResponse>();
        Assert.Equal(1, prediction.ModelVersion);
    }

    [Fact]
    public async Task StartingOrCancellingTrainingNeedsTheApiKey()
    {
        await using var app = new RnnServiceApp();
        using var anonymous = app.CreateClient();
        using var wrongKey = app.CreateClientWithKey("not-the-key");

        foreach (var response in new[]
        {
            await anonymous.PostJsonAsync("/api/training", TinyJob),
            await wrongKey.PostJsonAsync("/api/training", TinyJob),
            await anonymous.DeleteAsync($"/api/training/{Guid.NewGuid()}"),
        })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            await response.ReadProblemAsync();
        }
        Assert.Empty(await (await anonymous.GetAsync("/api/training")).ReadAsync<TrainingJobResponse[]>());
    }

    [Theory]
    [InlineData("hiddenSize", 100_000, "hiddenSize must be between 4 and 512.")]
    [InlineData("epochs", 0, "epochs must be between 1 and 200.")]
    [InlineData("learningRate", -1, "learningRate must be greater than 0 and at most 1.")]
    [InlineData("batchSize", 5000, "batchSize must be between 1 and 1024.")]
    [InlineData("members", 9, "members must be between 1 and 8.")]
    [InlineData("hiddenSize", 130, "hiddenSize must be a multiple of the number of members.")]
    public async Task AHyperparameterOutsideItsRangeIsAProblemNamingIt(string field, double value, string message)
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClientWithKey();

        var response = await client.PostJsonAsync("/api/training", new Dictionary<string, double> { [field] = value });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadProblemAsync();
        Assert.Equal(message, problem.GetProperty("errors").GetProperty(field)[0].GetString());
    }

    [Fact]
    public async Task AnUnknownJobIsNotFound()
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClientWithKey();

        var response = await client.GetAsync($"/api/training/{Guid.NewGuid()}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        await response.ReadProblemAsync();
    }

    internal static Task<TrainingJobResponse> WaitUntilFinished(HttpClient client, Uri job, TimeSpan? timeout = null) =>
        WaitUntil(client, job, j => TrainingJob.IsTerminal(j.State), timeout: timeout);

    /// <param name="context">What to add to the failure message, e.g. the output of the processes involved.</param>
    internal static async Task<TrainingJobResponse> WaitUntil(
        HttpClient client, Uri job, Func<TrainingJobResponse, bool> condition, Func<string>? context = null, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var current = await (await client.GetAsync(job)).ReadAsync<TrainingJobResponse>();
            if (condition(current)) return current;
            Assert.True(DateTime.UtcNow < deadline, $"job still {current.State} after {timeout ?? TimeSpan.FromSeconds(60)}\n{context?.Invoke()}");
            await Task.Delay(50);
        }
    }
}

public sealed class TrainingLimitTests
{
    [Theory]
    [InlineData("hiddenSize", 3)]
    [InlineData("hiddenSize", 513)]
    [InlineData("epochs", 0)]
    [InlineData("epochs", 201)]
    [InlineData("batchSize", 0)]
    [InlineData("batchSize", 1025)]
    [InlineData("learningRate", 0)]
    [InlineData("learningRate", 1.0001)]
    [InlineData("weightDecay", -0.1)]
    [InlineData("weightDecay", 1.1)]
    [InlineData("classWeightExponent", -0.01)]
    [InlineData("classWeightExponent", 1.01)]
    [InlineData("gradientClipNorm", -1)]
    [InlineData("gradientClipNorm", 1000.5)]
    [InlineData("earlyStoppingPatience", -1)]
    [InlineData("earlyStoppingPatience", 201)]
    [InlineData("hiddenSize", 1_000_000_000)]
    public async Task AHyperparameterBeyondItsDocumentedLimitIsRejected(string field, double value)
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClientWithKey();

        var response = await client.PostJsonAsync("/api/training", new Dictionary<string, double> { [field] = value });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ReadProblemAsync()).GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task EveryHyperparameterAtItsDocumentedLimitIsAccepted()
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClientWithKey();
        // Largest model, smallest everything else, then cancelled: acceptance is what is tested, not the training.
        var atLimits = new
        {
            hiddenSize = 512, members = 8, ngramBuckets = 65536, labelSmoothing = 0.5, epochs = 200, batchSize = 1024, learningRate = 1.0,
            weightDecay = 1.0, classWeightExponent = 1.0, gradientClipNorm = 1000.0, earlyStoppingPatience = 200, seed = int.MaxValue,
        };

        var started = await client.PostJsonAsync("/api/training", atLimits);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var job = await started.ReadAsync<TrainingJobResponse>();
        await client.DeleteAsync($"/api/training/{job.Id}");
        Assert.Equal(TrainingJobState.Cancelled, (await TrainingTests.WaitUntilFinished(client, started.Headers.Location!)).State);

        var atLowerLimits = new
        {
            members = 1, hiddenSize = 4, supplementaryNames = false, bidirectional = false, boundaryMarks = false, ngramBuckets = 0, labelSmoothing = 0.0, epochs = 1, batchSize = 1,
            learningRate = 1e-9, weightDecay = 0.0, classWeightExponent = 0.0, gradientClipNorm = 0.0, earlyStoppingPatience = 0,
        };
        var small = await client.PostJsonAsync("/api/training", atLowerLimits);
        Assert.Equal(HttpStatusCode.Accepted, small.StatusCode);
        Assert.Equal(TrainingJobState.Succeeded, (await TrainingTests.WaitUntilFinished(client, small.Headers.Location!)).State);
    }
}

public sealed class CancellationRaceTests
{
    [Fact]
    public async Task CancelsArrivingAroundTheEndOfJobsNeverLeaveAHalfPublishedVersion()
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClientWithKey();
        var random = new Random(11);
        var succeeded = 0;
        const int jobs = 10;

        for (var i = 0; i < jobs; i++)
        {
            var started = await client.PostJsonAsync("/api/training", new { members = 1, hiddenSize = 8, epochs = 2, seed = i });
            var job = await started.ReadAsync<TrainingJobResponse>();
            await Task.Delay(random.Next(0, 400));
            var cancel = await client.DeleteAsync($"/api/training/{job.Id}");
            var finished = await TrainingTests.WaitUntilFinished(client, started.Headers.Location!);

            // Either the cancel won (202, nothing published) or the job had finished first (409, a complete version).
            if (finished.State == TrainingJobState.Succeeded)
            {
                succeeded++;
                Assert.NotNull(finished.ModelVersion);
            }
            else
            {
                Assert.Equal(TrainingJobState.Cancelled, finished.State);
                Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
                Assert.Null(finished.ModelVersion);
            }
        }

        Assert.Equal(succeeded + 1, app.Store.Versions().Count);
        foreach (var version in app.Store.Versions())
        {
            using var loaded = app.Store.Load(version);
        }
        using var current = app.Store.Load(app.Store.CurrentVersion()!.Value);
        Assert.InRange(succeeded, 0, jobs);
    }
}
