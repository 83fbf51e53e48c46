using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using RnnService.Api.Training;
using RnnService.Core;
using RnnService.Core.Jobs;
using RnnService.Core.Storage;
using RnnService.Core.Training;

namespace RnnService.Api.Tests;

/// <summary>
/// The service as a fleet of real processes on loopback: two API instances with the worker off and one worker process,
/// sharing a models folder and a job store, run once on SQLite (one host) and once on PostgreSQL. They run alone, as
/// their processes train on the machine's cores and would skew the timing of tests running beside them.
/// </summary>
[Collection(nameof(ProcessFleet))]
public sealed class FleetTests
{
    private const string ApiKey = "fleet-key";
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(3);

    /// <summary>Every version is promoted: the fleet is under test here, not the tiny jobs' quality.</summary>
    private const double Tolerance = 1;

    /// <summary>Still training when the test acts on it, however fast the machine.</summary>
    private static readonly object LongJob = new { members = 1, hiddenSize = 32, epochs = 200, batchSize = 4, earlyStoppingPatience = 0 };

    private static readonly object TinyJob = new { members = 1, hiddenSize = 8, epochs = 2, batchSize = 16, seed = 3 };

    public static readonly TheoryData<string> Stores = new() { "sqlite", "postgres" };

    [SkippableTheory]
    [MemberData(nameof(Stores))]
    public async Task EveryInstanceAnswersAlikeAndTheFleetSurvivesALostWorker(string store)
    {
        using var models = new TemporaryDirectory();
        using var data = new TemporaryDirectory();
        TinyModel.Seed(models.Path, 1);
        TestData.WriteDirectory(data);
        var environment = new Dictionary<string, string>
        {
            ["ConnectionStrings__Jobs"] = store == "postgres" ? TestPostgres.NewSchema() : "",
            ["Serving__ModelsDirectory"] = models.Path,
            ["Serving__PollInterval"] = "00:00:00.200",
            ["Training__DataDirectory"] = data.Path,
            ["Training__RunWorker"] = "false",
            ["Training__WorkerLease"] = Lease.ToString(),
            ["Training__PollInterval"] = "00:00:00.100",
            ["Training__PromotionTolerance"] = Tolerance.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Security__ApiKey"] = ApiKey,
        };
        var (a, clientA) = await ServiceProcess.StartApiAsync(environment, ApiKey);
        var (b, clientB) = await ServiceProcess.StartApiAsync(environment, ApiKey);
        var worker = ServiceProcess.StartWorker(environment);
        await using var processes = new ProcessGroup(a, b, worker);

        // Twenty concurrent requests spread over both instances: one job, and every refusal names it.
        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => (i % 2 == 0 ? clientA : clientB).PostJsonAsync("/api/training", LongJob)));
        var accepted = Assert.Single(answers, answer => answer.StatusCode == HttpStatusCode.Accepted);
        var job = await accepted.ReadAsync<TrainingJobResponse>();
        foreach (var refused in answers.Where(answer => answer != accepted))
        {
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Equal(job.Id.ToString(), (await refused.ReadProblemAsync()).GetProperty("jobId").GetString());
        }

        // The Location one instance gave works on the other.
        var location = accepted.Headers.Location!;
        await WaitFor(clientB, location, j => j.Epochs.Count > 0, processes);

        // Cancelled through the instance that did not start it; the worker sees it within a second.
        var cancelled = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.Accepted, (await clientB.DeleteAsync(location)).StatusCode);
        var ended = await WaitFor(clientA, location, j => j.State != TrainingJobState.Running, processes);
        Assert.Equal(TrainingJobState.Cancelled, ended.State);
        Assert.True(cancelled.Elapsed < TimeSpan.FromSeconds(3), $"cancellation took {cancelled.Elapsed}");
        Assert.Null(ended.ModelVersion);
        Assert.Equal(await Text(clientA, "/api/training"), await Text(clientB, "/api/training"));

        // kill -9 of the worker mid-epoch: the job fails as "worker lost" within the lease, reported by the instances.
        var doomed = await Start(clientA, LongJob);
        await WaitFor(clientB, doomed, j => j.Epochs.Count > 0, processes);
        worker.Kill();
        var killed = Stopwatch.StartNew();
        var lost = await WaitFor(clientB, doomed, j => j.State != TrainingJobState.Running, processes);
        Assert.Equal(TrainingJobState.Failed, lost.State);
        Assert.StartsWith("worker lost", lost.Error, StringComparison.Ordinal);
        Assert.True(killed.Elapsed < Lease + TimeSpan.FromSeconds(2), $"worker loss reported after {killed.Elapsed}");

        // A worker killed between publishing and deciding promotion: the next worker decides it.
        var crashing = processes.Add(ServiceProcess.StartWorker(new Dictionary<string, string>(environment) { [FaultInjection.Variable] = "version-recorded" }));
        var published = await Start(clientB, TinyJob);
        Assert.Equal(137, await crashing.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var undecided = await WaitFor(clientA, published, j => j.ModelVersion is not null, processes);
        Assert.Equal((TrainingJobState.Running, 2), (undecided.State, undecided.ModelVersion));
        var nextWorker = processes.Add(ServiceProcess.StartWorker(environment));
        var decided = await WaitFor(clientA, published, j => j.State != TrainingJobState.Running, processes);
        Assert.Equal((TrainingJobState.Succeeded, 2, true), (decided.State, decided.ModelVersion, decided.Promoted));
        Assert.Equal(2, new ModelStore(models.Path).CurrentVersion());

        // The next job runs, and both instances serve what it published.
        var next = await WaitFor(clientB, await Start(clientA, TinyJob), j => j.IsFinished(), processes);
        Assert.Equal((TrainingJobState.Succeeded, 3), (next.State, next.ModelVersion));
        await ModelsTests.WaitFor(async () => await ModelsTests.ServedVersion(clientA) == 3 && await ModelsTests.ServedVersion(clientB) == 3);

        // SIGTERM stops the worker cleanly: its running job ends cancelled, recorded before the process exits.
        var stopped = await Start(clientB, LongJob);
        await WaitFor(clientA, stopped, j => j.Epochs.Count > 0, processes);
        nextWorker.Terminate();
        Assert.Equal(0, await nextWorker.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(TrainingJobState.Cancelled, (await (await clientA.GetAsync(stopped)).ReadAsync<TrainingJobResponse>()).State);

        // A worker killed right after publishing, before recording the version on its job: an instance finds the version
        // by the job its manifest names, never "worker lost", and the next worker decides its promotion by the rule.
        var publishing = processes.Add(ServiceProcess.StartWorker(new Dictionary<string, string>(environment) { [FaultInjection.Variable] = "published" }));
        var unrecorded = await Start(clientA, TinyJob);
        Assert.Equal(137, await publishing.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var adopted = await WaitFor(clientB, unrecorded, j => j.ModelVersion is not null || j.IsFinished(), processes);
        Assert.Equal((TrainingJobState.Running, 4, null), (adopted.State, adopted.ModelVersion, adopted.Error));
        var folder = new ModelStore(models.Path);
        Assert.Equal(adopted.Id, folder.GetManifest(4).TrainingJob);
        Assert.Contains("was lost after publishing version 4 but before recording it", a.Output + b.Output, StringComparison.Ordinal);
        processes.Add(ServiceProcess.StartWorker(environment));
        var adoptedDecided = await WaitFor(clientA, unrecorded, j => j.IsFinished(), processes);
        var rule = new TrainingRunner(folder, NullLogger<TrainingRunner>.Instance)
            .DecidePromotion(folder.GetManifest(4), folder.GetManifest(3), data.Path, Tolerance);
        Assert.Equal(
            (TrainingJobState.Succeeded, 4, rule.Promote, rule.Note, null),
            (adoptedDecided.State, adoptedDecided.ModelVersion, adoptedDecided.Promoted, adoptedDecided.PromotionNote, adoptedDecided.Error));
        Assert.Equal(rule.Promote ? 4 : 3, folder.CurrentVersion());

        // An API restart keeps the history.
        var before = await Text(clientA, "/api/training");
        await a.DisposeAsync();
        var (restarted, clientRestarted) = await ServiceProcess.StartApiAsync(environment, ApiKey);
        processes.Add(restarted);
        var history = JsonSerializer.Deserialize<TrainingJobResponse[]>(await Text(clientRestarted, "/api/training"), RnnServiceApp.Json)!;
        Assert.Equal(before, await Text(clientRestarted, "/api/training"));
        Assert.Equal(
            [TrainingJobState.Succeeded, TrainingJobState.Cancelled, TrainingJobState.Succeeded, TrainingJobState.Succeeded, TrainingJobState.Failed, TrainingJobState.Cancelled],
            history.Select(j => j.State));
        foreach (var version in new ModelStore(models.Path).Versions())
        {
            using var loaded = new ModelStore(models.Path).Load(version); // nothing half-published
        }
    }

    [Fact]
    public async Task WorkersKilledAtRandomMomentsLeaveAConsistentStoreAndFolder()
    {
        const int rounds = 10;
        using var models = new TemporaryDirectory();
        using var data = new TemporaryDirectory();
        TinyModel.Seed(models.Path, 1);
        TestData.WriteDirectory(data);
        var settings = new Dictionary<string, string?>
        {
            ["Training:RunWorker"] = "false", ["Training:WorkerLease"] = "00:00:01", ["Training:PollInterval"] = "00:00:00.100",
        };
        await using var app = new RnnServiceApp(models.Path, settings);
        using var client = app.CreateClientWithKey();
        var workerEnvironment = new Dictionary<string, string>
        {
            ["Serving__ModelsDirectory"] = models.Path, ["Training__DataDirectory"] = data.Path,
            ["Training__WorkerLease"] = "00:00:01", ["Training__PollInterval"] = "00:00:00.100",
        };
        var random = new Random(14);
        var processes = new ProcessGroup();
        await using (processes)
        {
            for (var round = 0; round < rounds; round++)
            {
                var worker = processes.Add(ServiceProcess.StartWorker(workerEnvironment));
                await WaitForNoActiveJob(client, processes); // the new worker first decides what a lost one left undecided
                var job = await Start(client, new { members = 1, hiddenSize = 8, epochs = 6, batchSize = 16, seed = round });
                await WaitFor(client, job, j => j.State != TrainingJobState.Queued, processes);
                await Task.Delay(random.Next(0, 1500)); // somewhere in training, publishing or promoting
                worker.Kill();
            }
            processes.Add(ServiceProcess.StartWorker(workerEnvironment));
            await WaitForNoActiveJob(client, processes);

            // Every job ended, each either published and decided or lost before publishing; the next job runs.
            var jobs = await (await client.GetAsync("/api/training")).ReadAsync<TrainingJobResponse[]>();
            Assert.Equal(rounds, jobs.Length);
            Assert.All(jobs, job => Assert.True(
                (job.State == TrainingJobState.Succeeded && job.ModelVersion is not null && job.Promoted is not null)
                || (job.State == TrainingJobState.Failed && job.Error!.StartsWith("worker lost", StringComparison.Ordinal) && job.ModelVersion is null),
                $"{job.State} {job.ModelVersion} {job.Error}"));
            var last = await WaitFor(client, await Start(client, TinyJob), j => j.IsFinished(), processes);
            Assert.Equal(TrainingJobState.Succeeded, last.State);

            // Every version published since the seeded one is recorded on its job: none was orphaned by a kill after publishing.
            var recorded = (await (await client.GetAsync("/api/training")).ReadAsync<TrainingJobResponse[]>()).Select(job => job.ModelVersion).OfType<int>();
            Assert.Equal(new ModelStore(models.Path).Versions().Skip(1), recorded.Order());
        }

        // Only complete versions, a servable current one, nothing left behind by the dead.
        var store = new ModelStore(models.Path);
        foreach (var version in store.Versions())
        {
            using var loaded = store.Load(version);
        }
        using (store.Load(store.CurrentVersion()!.Value))
        {
        }
        Assert.DoesNotContain(RnnServiceApp.ModelFolderEntries(models.Path),
            name => !int.TryParse(name, out _) && name is not (ModelStore.CurrentFile or ModelStore.HistoryFile));
    }

    private static async Task WaitForNoActiveJob(HttpClient client, ProcessGroup processes)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await (await client.GetAsync("/api/training")).ReadAsync<TrainingJobResponse[]>()).Any(job => !job.IsFinished()))
        {
            Assert.True(DateTime.UtcNow < deadline, $"a job is still active after 60 s; output:\n{processes.Output}");
            await Task.Delay(50);
        }
    }

    private static async Task<Uri> Start(HttpClient client, object job)
    {
        var response = await client.PostJsonAsync("/api/training", job);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return response.Headers.Location!;
    }

    private static async Task<string> Text(HttpClient client, string path) => await (await client.GetAsync(path)).Content.ReadAsStringAsync();

    private static Task<TrainingJobResponse> WaitFor(HttpClient client, Uri job, Func<TrainingJobResponse, bool> condition, ProcessGroup processes) =>
        TrainingTests.WaitUntil(client, job, condition, () => processes.Output);

    /// <summary>The fleet's processes, all killed at the end whatever happened.</summary>
    private sealed class ProcessGroup(params ServiceProcess[] initial) : IAsyncDisposable
    {
        private readonly List<ServiceProcess> processes = [.. initial];

        public string Output => string.Join("\n----\n", processes.Select(process => process.Output.Length > 4000 ? process.Output[^4000..] : process.Output));

        public ServiceProcess Add(ServiceProcess process)
        {
            processes.Add(process);
            return process;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var process in processes) await process.DisposeAsync();
        }
    }
}

[CollectionDefinition(nameof(ProcessFleet), DisableParallelization = true)]
public sealed class ProcessFleet;

internal static class TrainingJobResponseExtensions
{
    public static bool IsFinished(this TrainingJobResponse job) => TrainingJob.IsTerminal(job.State);
}
