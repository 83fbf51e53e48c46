using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using RnnService.Core.Jobs;
using RnnService.Core.Storage;
using RnnService.Core.Training;

namespace RnnService.Core.Tests;

/// <summary>
/// What every job store must do, run against SQLite and against a real PostgreSQL server. Several store objects on one
/// database stand for several instances of the service: they share nothing but the database.
/// </summary>
public abstract class JobStoreBehaviour : IDisposable
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(10);
    private static readonly TrainingConfig Config = new() { HiddenSize = 16, Epochs = 3, Seed = 7 };

    private readonly List<SqlJobStore> stores = [];

    protected FakeTimeProvider Time { get; } = new(DateTimeOffset.Parse("2026-12-01T03:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>A store on this test's database, as a new instance of the service would open it.</summary>
    protected abstract SqlJobStore Open(JobStoreSettings settings);

    /// <summary>A store whose database cannot be reached.</summary>
    protected abstract SqlJobStore OpenUnreachable();

    private SqlJobStore NewInstance(int jobsKept = 20)
    {
        var store = Open(new JobStoreSettings(jobsKept, Lease));
        stores.Add(store);
        return store;
    }

    [SkippableFact]
    public async Task AJobQueuedThroughOneInstanceIsSeenAlikeThroughAnother()
    {
        var (a, b) = (NewInstance(), NewInstance());

        var (queued, job) = await a.EnqueueAsync(Config);

        Assert.True(queued);
        Assert.Equal(TrainingJobState.Queued, job.State);
        var seen = await b.FindAsync(job.Id);
        Assert.NotNull(seen);
        Assert.Equal(job.Id, seen.Id);
        Assert.Equal(Config, seen.Config);
        Assert.Equal(Time.GetUtcNow(), seen.CreatedAt);
        Assert.Equal(job.Id, Assert.Single(await b.RecentAsync()).Id);
        Assert.Null(await b.FindAsync(Guid.NewGuid()));
    }

    [SkippableFact]
    public async Task ConcurrentRequestsFromManyInstancesQueueExactlyOneJob()
    {
        var instances = Enumerable.Range(0, 4).Select(_ => NewInstance()).ToArray();
        await Task.WhenAll(instances.Select(store => store.InitializeAsync()));

        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => instances[i % instances.Length].EnqueueAsync(Config with { Seed = i }))));

        var queued = Assert.Single(answers, answer => answer.Queued).Job;
        Assert.All(answers.Where(answer => !answer.Queued), refused => Assert.Equal(queued.Id, refused.Job.Id));
        Assert.Single(await instances[0].RecentAsync());
    }

    [SkippableFact]
    public async Task OnlyOneWorkerWinsTheQueuedJob()
    {
        var workers = Enumerable.Range(0, 4).Select(_ => NewInstance()).ToArray();
        var (_, job) = await workers[0].EnqueueAsync(Config);

        var claims = await Task.WhenAll(workers.Select((store, i) => Task.Run(() => store.ClaimNextAsync($"worker-{i}"))));

        var claimed = Assert.Single(claims, claim => claim is not null)!;
        Assert.Equal(job.Id, claimed.Id);
        Assert.Equal(TrainingJobState.Running, claimed.State);
        Assert.Equal(Time.GetUtcNow(), claimed.StartedAt);
        Assert.False((await workers[1].EnqueueAsync(Config)).Queued);
    }

    [SkippableFact]
    public async Task AFinishedJobKeepsItsProgressAndOutcomeAndFreesTheSlot()
    {
        var (api, worker) = (NewInstance(), NewInstance());
        var (_, job) = await api.EnqueueAsync(Config);
        await worker.ClaimNextAsync("w");
        EpochReport[] epochs = [new(1, 3, 1.5, 0.4, 1.6, 0.35, 0.01, TimeSpan.FromSeconds(1.25)), new(2, 3, 1.2, 0.5, 1.3, 0.45, 0.005, TimeSpan.FromSeconds(2.5))];

        Assert.False(await worker.HeartbeatAsync(job.Id, "w", epochs[..1]));
        Assert.Equal(epochs[..1], (await api.FindAsync(job.Id))!.Epochs);
        Time.Advance(TimeSpan.FromSeconds(3));
        await worker.RecordPublishedAsync(job.Id, "w", 7);
        await worker.FinishAsync(job.Id, "w", JobOutcome.Succeeded(7, promoted: false, "not promoted: worse"), epochs);

        var finished = (await api.FindAsync(job.Id))!;
        Assert.Equal(TrainingJobState.Succeeded, finished.State);
        Assert.Equal(epochs, finished.Epochs);
        Assert.Equal(7, finished.ModelVersion);
        Assert.False(finished.Promoted);
        Assert.Equal("not promoted: worse", finished.PromotionNote);
        Assert.Null(finished.Error);
        Assert.Equal(Time.GetUtcNow(), finished.FinishedAt);
        Assert.True((await api.EnqueueAsync(Config)).Queued);
    }

    [SkippableFact]
    public async Task CancellingAQueuedJobEndsItAtOnceAndARunningOneTellsItsWorker()
    {
        var (api, worker) = (NewInstance(), NewInstance());
        var (_, queued) = await api.EnqueueAsync(Config);

        var (requested, cancelled) = await api.RequestCancellationAsync(queued.Id);

        Assert.True(requested);
        Assert.Equal(TrainingJobState.Cancelled, cancelled!.State);
        Assert.Null(await worker.ClaimNextAsync("w"));
        Assert.Equal((false, TrainingJobState.Cancelled), await CancelAgain(api, queued.Id));

        var (_, running) = await api.EnqueueAsync(Config);
        await worker.ClaimNextAsync("w");
        Assert.False(await worker.HeartbeatAsync(running.Id, "w", []));
        Assert.True((await api.RequestCancellationAsync(running.Id)).Requested);
        Assert.True(await worker.HeartbeatAsync(running.Id, "w", []));
        await worker.FinishAsync(running.Id, "w", JobOutcome.Cancelled, []);
        Assert.Equal((false, TrainingJobState.Cancelled), await CancelAgain(api, running.Id));
        Assert.Equal((false, null), await api.RequestCancellationAsync(Guid.NewGuid()));
    }

    private static async Task<(bool, TrainingJobState?)> CancelAgain(SqlJobStore store, Guid id)
    {
        var (requested, job) = await store.RequestCancellationAsync(id);
        return (requested, job?.State);
    }

    [SkippableFact]
    public async Task ASilentWorkerLosesItsJobOnlyOnceTheLeaseRunsOut()
    {
        var (api, worker) = (NewInstance(), NewInstance());
        var (_, job) = await api.EnqueueAsync(Config);
        await worker.ClaimNextAsync("w");

        Time.Advance(Lease - TimeSpan.FromSeconds(1));
        Assert.Empty(await api.FindLostAsync());
        Assert.Null(await api.ExpireLostAsync(job.Id));
        Time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(job.Id, Assert.Single(await api.FindLostAsync()).Id);
        var lost = await api.ExpireLostAsync(job.Id);

        Assert.NotNull(lost);
        Assert.Equal(job.Id, lost.Id);
        Assert.Equal(TrainingJobState.Failed, lost.State);
        Assert.StartsWith("worker lost: w sent no heartbeat", lost.Error, StringComparison.Ordinal);
        await Assert.ThrowsAsync<JobLeaseLostException>(() => worker.HeartbeatAsync(job.Id, "w", []));
        await Assert.ThrowsAsync<JobLeaseLostException>(() => worker.FinishAsync(job.Id, "w", JobOutcome.Succeeded(2, true, "promoted"), []));
        Assert.Equal(TrainingJobState.Failed, (await api.FindAsync(job.Id))!.State);
        Assert.Null(await api.ExpireLostAsync(job.Id)); // once
        Assert.Empty(await api.FindLostAsync());
        Assert.True((await api.EnqueueAsync(Config)).Queued);
    }

    [SkippableFact]
    public async Task AJobLostAfterPublishingIsLeftForTheNextWorkerToDecide()
    {
        var (api, dead, next) = (NewInstance(), NewInstance(), NewInstance());
        var (_, job) = await api.EnqueueAsync(Config);
        await dead.ClaimNextAsync("dead");
        await dead.RecordPublishedAsync(job.Id, "dead", 4);
        Assert.Null(await next.ClaimUndecidedAsync("next")); // its worker may still be deciding

        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Empty(await api.FindLostAsync());
        Assert.Null(await api.ExpireLostAsync(job.Id));
        var undecided = await next.ClaimUndecidedAsync("next");

        Assert.NotNull(undecided);
        Assert.Equal((job.Id, 4, "next"), (undecided.Id, undecided.ModelVersion, undecided.Worker));
        Assert.Null(await api.ClaimUndecidedAsync("third"));
        await next.FinishAsync(job.Id, "next", JobOutcome.Succeeded(4, true, "promoted"), []);
        var finished = (await api.FindAsync(job.Id))!;
        Assert.Equal((TrainingJobState.Succeeded, true), (finished.State, finished.Promoted));
    }

    [SkippableFact]
    public async Task AJobLostBetweenPublishingAndRecordingItsVersionIsAdoptedAndLeftForTheNextWorker()
    {
        var (api, other, dead, next) = (NewInstance(), NewInstance(), NewInstance(), NewInstance());
        var (_, job) = await api.EnqueueAsync(Config);
        await dead.ClaimNextAsync("dead");
        Assert.False(await api.AdoptPublishedAsync(job.Id, 4)); // within its lease the worker records the version itself

        Time.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Equal(job.Id, Assert.Single(await api.FindLostAsync()).Id);
        var adoptions = await Task.WhenAll(api.AdoptPublishedAsync(job.Id, 4), other.AdoptPublishedAsync(job.Id, 4));

        Assert.Single(adoptions, adopted => adopted);
        Assert.Empty(await other.FindLostAsync());
        Assert.Null(await other.ExpireLostAsync(job.Id)); // an instance that saw it lost a moment ago fails it no more
        var undecided = await next.ClaimUndecidedAsync("next");
        Assert.NotNull(undecided);
        Assert.Equal((job.Id, TrainingJobState.Running, 4, "next"), (undecided.Id, undecided.State, undecided.ModelVersion, undecided.Worker));
        await next.FinishAsync(job.Id, "next", JobOutcome.Succeeded(4, promoted: false, "not promoted: worse"), []);
        Assert.False(await api.AdoptPublishedAsync(job.Id, 5));
        var finished = (await api.FindAsync(job.Id))!;
        Assert.Equal((TrainingJobState.Succeeded, 4, false, null), (finished.State, finished.ModelVersion, finished.Promoted, finished.Error));
    }

    [SkippableFact]
    public async Task OfAdoptingAndExpiringALostJobAtOnceExactlyOneTakesEffect()
    {
        var (a, b, dead) = (NewInstance(), NewInstance(), NewInstance());
        for (var round = 0; round < 10; round++)
        {
            var (_, job) = await a.EnqueueAsync(Config with { Seed = round });
            await dead.ClaimNextAsync("dead");
            Time.Advance(Lease + TimeSpan.FromSeconds(1));

            var adopting = Task.Run(() => a.AdoptPublishedAsync(job.Id, round + 1));
            var expiring = Task.Run(() => b.ExpireLostAsync(job.Id));
            var (adopted, expired) = (await adopting, await expiring);

            Assert.True(adopted ^ expired is not null, $"round {round}: adopted {adopted}, expired {expired is not null}");
            var seen = (await a.FindAsync(job.Id))!;
            Assert.Equal(adopted ? (TrainingJobState.Running, round + 1) : (TrainingJobState.Failed, null), (seen.State, seen.ModelVersion));
            if (adopted)
            {
                await dead.ClaimUndecidedAsync("dead");
                await dead.FinishAsync(job.Id, "dead", JobOutcome.Succeeded(round + 1, promoted: true, "promoted"), []);
            }
        }
    }

    [SkippableFact]
    public async Task AnInstanceWatchingForLostWorkersAdoptsWhatTheyPublishedAndFailsTheRest()
    {
        using var models = new TemporaryDirectory();
        TinyModel.Seed(models.Path, 1);
        // The store's clock moves to when the seeded versions were made: a job is looked for among versions made since it started.
        if (TinyModel.Manifest.CreatedAt > Time.GetUtcNow()) Time.SetUtcNow(TinyModel.Manifest.CreatedAt);
        var (api, dead) = (NewInstance(), NewInstance());
        var (_, published) = await api.EnqueueAsync(Config);
        await dead.ClaimNextAsync("dead");
        TinyModel.Seed(models.Path, 2, trainingJob: published.Id); // then killed before recording it
        TinyModel.Seed(models.Path, 3, trainingJob: Guid.NewGuid()); // another job's, published since
        Time.Advance(Lease + TimeSpan.FromSeconds(1));

        var adopted = await WatchForLostWorkersUntil(api, models.Path, published.Id, job => job.ModelVersion is not null);

        Assert.Equal((TrainingJobState.Running, 2), (adopted.State, adopted.ModelVersion));
        await dead.ClaimUndecidedAsync("next");
        await dead.FinishAsync(published.Id, "next", JobOutcome.Succeeded(2, promoted: true, "promoted"), []);

        var (_, nothing) = await api.EnqueueAsync(Config);
        await dead.ClaimNextAsync("dead");
        Time.Advance(Lease + TimeSpan.FromSeconds(1));

        var lost = await WatchForLostWorkersUntil(api, models.Path, nothing.Id, job => job.State != TrainingJobState.Running);

        Assert.Equal((TrainingJobState.Failed, null), (lost.State, lost.ModelVersion));
        Assert.StartsWith("worker lost", lost.Error, StringComparison.Ordinal);
    }

    /// <summary>Runs an instance's watch for lost workers (the fake clock stands still, so it polls once) until the job is as wanted.</summary>
    private async Task<TrainingJob> WatchForLostWorkersUntil(SqlJobStore store, string modelsFolder, Guid id, Func<TrainingJob, bool> condition)
    {
        using var stop = new CancellationTokenSource();
        var watch = JobWorker.WatchForLostWorkersAsync(store, new ModelStore(modelsFolder), TimeSpan.FromSeconds(1), Time, NullLogger.Instance, stop.Token);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        TrainingJob job;
        while (!condition(job = (await store.FindAsync(id))!))
        {
            Assert.True(DateTime.UtcNow < deadline, $"job {id} is still {job.State}, version {job.ModelVersion}");
            await Task.Delay(20);
        }
        await stop.CancelAsync();
        await watch;
        return job;
    }

    [SkippableFact]
    public async Task OnlyTheNewestFinishedJobsAreKept()
    {
        var store = NewInstance(jobsKept: 3);
        var ids = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            var (_, job) = await store.EnqueueAsync(Config with { Seed = i });
            ids.Add(job.Id);
            await store.ClaimNextAsync("w");
            await store.FinishAsync(job.Id, "w", JobOutcome.Failed($"failure {i}"), []);
            Time.Advance(TimeSpan.FromSeconds(1));
        }
        var (_, active) = await store.EnqueueAsync(Config);

        var recent = await store.RecentAsync();

        Assert.Equal([active.Id, ids[4], ids[3], ids[2]], recent.Select(job => job.Id));
        Assert.Null(await store.FindAsync(ids[0]));
    }

    [SkippableFact]
    public async Task SchemaCreationIsSafeFromManyInstancesAtOnceAndAgain()
    {
        var instances = Enumerable.Range(0, 4).Select(_ => NewInstance()).ToArray();

        await Task.WhenAll(instances.Select(store => Task.Run(() => store.InitializeAsync())));
        await instances[0].InitializeAsync();

        await instances[1].CheckAsync();
        Assert.True((await instances[2].EnqueueAsync(Config)).Queued);
    }

    [SkippableFact]
    public async Task AnUnreachableStoreSaysSoAndNamesItself()
    {
        var store = OpenUnreachable();
        stores.Add(store);

        var error = await Assert.ThrowsAsync<JobStoreUnavailableException>(() => store.EnqueueAsync(Config));

        Assert.Contains(store.Description, error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<JobStoreUnavailableException>(() => store.CheckAsync());
        await Assert.ThrowsAsync<JobStoreUnavailableException>(() => store.RecentAsync());
    }

    public void Dispose()
    {
        foreach (var store in stores) (store as IDisposable)?.Dispose();
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}

public sealed class SqliteJobStoreTests : JobStoreBehaviour
{
    private readonly TemporaryDirectory folder = new();

    protected override SqlJobStore Open(JobStoreSettings settings) => new SqliteJobStore(Path.Combine(folder.Path, SqliteJobStore.FileName), settings, Time);

    /// <summary>A file where the store's folder should be: the database cannot be created.</summary>
    protected override SqlJobStore OpenUnreachable()
    {
        var file = Path.Combine(folder.Path, "not-a-folder");
        File.WriteAllText(file, "");
        return new SqliteJobStore(Path.Combine(file, SqliteJobStore.FileName), new JobStoreSettings(20, TimeSpan.FromSeconds(10)), Time);
    }

    [Fact]
    public async Task TheDatabaseIsAFileInTheGivenFolder()
    {
        var store = Open(new JobStoreSettings(20, TimeSpan.FromSeconds(10)));

        await store.InitializeAsync();

        Assert.True(File.Exists(Path.Combine(folder.Path, SqliteJobStore.FileName)));
        Assert.Contains(folder.Path, store.Description, StringComparison.Ordinal);
    }

    protected override void Dispose(bool disposing)
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        folder.Dispose();
        base.Dispose(disposing);
    }
}

public sealed class PostgresJobStoreTests : JobStoreBehaviour
{
    private string? schema;

    protected override SqlJobStore Open(JobStoreSettings settings) => new PostgresJobStore(schema ??= TestPostgres.NewSchema(), settings, Time);

    protected override SqlJobStore OpenUnreachable() => new PostgresJobStore(TestPostgres.Unreachable(), new JobStoreSettings(20, TimeSpan.FromSeconds(10)), Time);
}
