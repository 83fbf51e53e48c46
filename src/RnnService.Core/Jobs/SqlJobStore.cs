using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using RnnService.Core.Training;

namespace RnnService.Core.Jobs;

/// <summary>
/// The job store's SQL, one dialect-neutral set of statements that SQLite and PostgreSQL both run. Every state change
/// is a single conditional statement, so concurrent instances and workers need no locks of their own: the database
/// decides who wins.
/// </summary>
/// <remarks>
/// The schema keeps to types both databases share: times are Unix milliseconds (UTC) and flags 0/1, both BIGINT;
/// settings and progress are JSON text. "At most one job queued or running across the fleet" is a partial unique index
/// over a constant: whichever process inserts a second active row gets a unique violation, and the caller is told
/// which job is active instead.
/// </remarks>
public abstract class SqlJobStore(JobStoreSettings settings, TimeProvider time) : IJobStore
{
    private const string Columns =
        "id, state, config, created_at, started_at, finished_at, epochs, model_version, promoted, promotion_note, error, cancel_requested, worker, heartbeat_at";

    private const string FinishedStates = "('Succeeded', 'Failed', 'Cancelled')";

    /// <summary>A running job whose worker outlived its lease before recording a version (parameter <c>@expired</c>).</summary>
    private const string LostWithoutVersion = "state = 'Running' AND model_version IS NULL AND heartbeat_at < @expired";

    /// <summary>Schema versions in order; each is applied once, under a lock, by whichever process starts first.</summary>
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE training_jobs (
            id TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            config TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            started_at BIGINT,
            finished_at BIGINT,
            epochs TEXT NOT NULL,
            model_version BIGINT,
            promoted BIGINT,
            promotion_note TEXT,
            error TEXT,
            cancel_requested BIGINT NOT NULL,
            worker TEXT,
            heartbeat_at BIGINT);
        CREATE UNIQUE INDEX training_jobs_one_active ON training_jobs ((1)) WHERE state IN ('Queued', 'Running');
        CREATE INDEX training_jobs_by_creation ON training_jobs (created_at);
        """,
    ];

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private volatile bool initialized;

    static SqlJobStore() => DefaultTypeMap.MatchNamesWithUnderscores = true; // created_at -> CreatedAt

    public abstract string Description { get; }

    /// <summary>Opens a connection to the database.</summary>
    protected abstract ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>Whether <paramref name="exception"/> is a unique-constraint violation.</summary>
    protected abstract bool IsUniqueViolation(DbException exception);

    /// <summary>Serialises concurrent migrations for the rest of <paramref name="transaction"/>.</summary>
    protected virtual Task LockSchemaAsync(DbConnection connection, DbTransaction transaction) => Task.CompletedTask;

    public virtual async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        await Guarded(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await LockSchemaAsync(connection, transaction);
            await connection.ExecuteAsync(Command("CREATE TABLE IF NOT EXISTS job_store_schema (version BIGINT NOT NULL)", null, cancellationToken, transaction));
            var version = await connection.ExecuteScalarAsync<long>(Command("SELECT COALESCE(MAX(version), 0) FROM job_store_schema", null, cancellationToken, transaction));
            for (var next = (int)version; next < Migrations.Length; next++)
            {
                await connection.ExecuteAsync(Command(Migrations[next], null, cancellationToken, transaction));
                await connection.ExecuteAsync(Command("INSERT INTO job_store_schema (version) VALUES (@version)", new { version = next + 1 }, cancellationToken, transaction));
            }
            await transaction.CommitAsync(cancellationToken);
            return 0;
        }, cancellationToken);
        initialized = true;
    }

    public Task CheckAsync(CancellationToken cancellationToken = default) =>
        Run(connection => connection.ExecuteScalarAsync<long>(Command("SELECT COUNT(*) FROM training_jobs WHERE state = 'Running'", null, cancellationToken)), cancellationToken);

    public async Task<(bool Queued, TrainingJob Job)> EnqueueAsync(TrainingConfig config, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            try
            {
                var queued = await Single(
                    $"""
                     INSERT INTO training_jobs (id, state, config, created_at, epochs, cancel_requested)
                     VALUES (@id, 'Queued', @config, @now, '[]', 0) RETURNING {Columns}
                     """,
                    new { id = Guid.NewGuid().ToString(), config = JsonSerializer.Serialize(config, Json), now = Now }, cancellationToken);
                return (true, queued!);
            }
            catch (DbException exception) when (IsUniqueViolation(exception))
            {
                var active = await Single($"SELECT {Columns} FROM training_jobs WHERE state IN ('Queued', 'Running')", null, cancellationToken);
                if (active is not null) return (false, active);
                // The active job finished in between: try again.
            }
        }
    }

    public Task<TrainingJob?> FindAsync(Guid id, CancellationToken cancellationToken = default) =>
        Single($"SELECT {Columns} FROM training_jobs WHERE id = @id", new { id = id.ToString() }, cancellationToken);

    public Task<IReadOnlyList<TrainingJob>> RecentAsync(CancellationToken cancellationToken = default) =>
        Many($"SELECT {Columns} FROM training_jobs ORDER BY created_at DESC LIMIT @limit", new { limit = settings.JobsKept + 1 }, cancellationToken);

    public async Task<(bool Requested, TrainingJob? Job)> RequestCancellationAsync(Guid id, CancellationToken cancellationToken = default)
    {
        var parameters = new { id = id.ToString(), now = Now };
        if (await Single($"UPDATE training_jobs SET state = 'Cancelled', finished_at = @now WHERE id = @id AND state = 'Queued' RETURNING {Columns}", parameters, cancellationToken) is { } cancelled)
        {
            await ForgetOldJobsAsync(cancellationToken);
            return (true, cancelled);
        }
        if (await Single($"UPDATE training_jobs SET cancel_requested = 1 WHERE id = @id AND state = 'Running' RETURNING {Columns}", parameters, cancellationToken) is { } running)
        {
            return (true, running);
        }
        return (false, await FindAsync(id, cancellationToken));
    }

    public Task<TrainingJob?> ClaimNextAsync(string worker, CancellationToken cancellationToken = default) =>
        Single(
            $"UPDATE training_jobs SET state = 'Running', worker = @worker, started_at = @now, heartbeat_at = @now WHERE state = 'Queued' RETURNING {Columns}",
            new { worker, now = Now }, cancellationToken);

    public Task<TrainingJob?> ClaimUndecidedAsync(string worker, CancellationToken cancellationToken = default) =>
        Single(
            $"""
             UPDATE training_jobs SET worker = @worker, heartbeat_at = @now
             WHERE state = 'Running' AND model_version IS NOT NULL AND heartbeat_at < @expired RETURNING {Columns}
             """,
            new { worker, now = Now, expired = Expired }, cancellationToken);

    public async Task<bool> HeartbeatAsync(Guid id, string worker, IReadOnlyList<EpochReport> epochs, CancellationToken cancellationToken = default)
    {
        var cancelRequested = await Run(connection => connection.QuerySingleOrDefaultAsync<long?>(Command(
            "UPDATE training_jobs SET heartbeat_at = @now, epochs = @epochs WHERE id = @id AND worker = @worker AND state = 'Running' RETURNING cancel_requested",
            new { id = id.ToString(), worker, now = Now, epochs = JsonSerializer.Serialize(epochs, Json) }, cancellationToken)), cancellationToken);
        return cancelRequested is { } requested ? requested != 0 : throw LeaseLost(id, worker);
    }

    public async Task RecordPublishedAsync(Guid id, string worker, int version, CancellationToken cancellationToken = default)
    {
        var updated = await Execute(
            "UPDATE training_jobs SET model_version = @version, heartbeat_at = @now WHERE id = @id AND worker = @worker AND state = 'Running'",
            new { id = id.ToString(), worker, version = (long)version, now = Now }, cancellationToken);
        if (updated == 0) throw LeaseLost(id, worker);
    }

    public async Task FinishAsync(Guid id, string worker, JobOutcome outcome, IReadOnlyList<EpochReport> epochs, CancellationToken cancellationToken = default)
    {
        var updated = await Execute(
            """
            UPDATE training_jobs SET state = @state, finished_at = @now, epochs = @epochs, model_version = @version, promoted = @promoted,
                promotion_note = @note, error = @error
            WHERE id = @id AND worker = @worker AND state = 'Running'
            """,
            new
            {
                id = id.ToString(), worker, now = Now, state = outcome.State.ToString(), epochs = JsonSerializer.Serialize(epochs, Json),
                version = (long?)outcome.ModelVersion, promoted = outcome.Promoted is { } promoted ? (promoted ? 1L : 0L) : (long?)null,
                note = outcome.PromotionNote, error = outcome.Error,
            },
            cancellationToken);
        if (updated == 0) throw LeaseLost(id, worker);
        await ForgetOldJobsAsync(cancellationToken);
    }

    public Task<IReadOnlyList<TrainingJob>> FindLostAsync(CancellationToken cancellationToken = default) =>
        Many($"SELECT {Columns} FROM training_jobs WHERE {LostWithoutVersion}", new { expired = Expired }, cancellationToken);

    public async Task<bool> AdoptPublishedAsync(Guid id, int version, CancellationToken cancellationToken = default) =>
        // The heartbeat stays as old as it is, so the job is at once undecided and ready for ClaimUndecidedAsync.
        await Execute(
            $"UPDATE training_jobs SET model_version = @version WHERE id = @id AND {LostWithoutVersion}",
            new { id = id.ToString(), version = (long)version, expired = Expired }, cancellationToken) > 0;

    public async Task<TrainingJob?> ExpireLostAsync(Guid id, CancellationToken cancellationToken = default)
    {
        var lease = settings.WorkerLease.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        var lost = await Single(
            $"""
             UPDATE training_jobs SET state = 'Failed', finished_at = @now, error = 'worker lost: ' || COALESCE(worker, 'unknown') || @silence
             WHERE id = @id AND {LostWithoutVersion} RETURNING {Columns}
             """,
            new { id = id.ToString(), now = Now, expired = Expired, silence = $" sent no heartbeat for the {lease} s lease" }, cancellationToken);
        if (lost is not null) await ForgetOldJobsAsync(cancellationToken);
        return lost;
    }

    private async Task ForgetOldJobsAsync(CancellationToken cancellationToken) =>
        await Execute(
            $"""
             DELETE FROM training_jobs WHERE state IN {FinishedStates} AND id NOT IN
                 (SELECT id FROM training_jobs WHERE state IN {FinishedStates} ORDER BY created_at DESC LIMIT @kept)
             """,
            new { kept = settings.JobsKept }, cancellationToken);

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    private long Expired => (time.GetUtcNow() - settings.WorkerLease).ToUnixTimeMilliseconds();

    private static JobLeaseLostException LeaseLost(Guid id, string worker) =>
        new($"Training job {id} is no longer held by worker {worker}: its lease ran out and it was declared lost.");

    private Task<TrainingJob?> Single(string sql, object? parameters, CancellationToken cancellationToken) =>
        Run(async connection => (await connection.QuerySingleOrDefaultAsync<JobRow>(Command(sql, parameters, cancellationToken)))?.ToJob(), cancellationToken);

    private Task<IReadOnlyList<TrainingJob>> Many(string sql, object? parameters, CancellationToken cancellationToken) =>
        Run<IReadOnlyList<TrainingJob>>(async connection => (await connection.QueryAsync<JobRow>(Command(sql, parameters, cancellationToken))).Select(row => row.ToJob()).ToArray(), cancellationToken);

    private Task<int> Execute(string sql, object parameters, CancellationToken cancellationToken) =>
        Run(connection => connection.ExecuteAsync(Command(sql, parameters, cancellationToken)), cancellationToken);

    private static CommandDefinition Command(string sql, object? parameters, CancellationToken cancellationToken, DbTransaction? transaction = null) =>
        new(sql, parameters, transaction, cancellationToken: cancellationToken);

    /// <summary>Runs <paramref name="work"/> on an open connection, creating the schema first if no call has yet.</summary>
    private async Task<T> Run<T>(Func<DbConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        if (!initialized) await InitializeAsync(cancellationToken);
        return await Guarded(work, cancellationToken);
    }

    /// <summary>Every database failure but a unique violation (which callers handle) becomes <see cref="JobStoreUnavailableException"/>.</summary>
    private async Task<T> Guarded<T>(Func<DbConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenAsync(cancellationToken);
            return await work(connection);
        }
        catch (DbException exception) when (!IsUniqueViolation(exception))
        {
            throw new JobStoreUnavailableException($"The training job store ({Description}) cannot be used: {exception.Message}", exception);
        }
    }

    /// <summary>A row as stored; Dapper fills it by column name.</summary>
    private sealed class JobRow
    {
        public string Id { get; init; } = "";
        public string State { get; init; } = "";
        public string Config { get; init; } = "";
        public long CreatedAt { get; init; }
        public long? StartedAt { get; init; }
        public long? FinishedAt { get; init; }
        public string Epochs { get; init; } = "[]";
        public long? ModelVersion { get; init; }
        public long? Promoted { get; init; }
        public string? PromotionNote { get; init; }
        public string? Error { get; init; }
        public long CancelRequested { get; init; }
        public string? Worker { get; init; }
        public long? HeartbeatAt { get; init; }

        public TrainingJob ToJob() => new(
            Guid.Parse(Id),
            Enum.Parse<TrainingJobState>(State),
            JsonSerializer.Deserialize<TrainingConfig>(Config, Json)!,
            Time(CreatedAt),
            StartedAt is { } started ? Time(started) : null,
            FinishedAt is { } finished ? Time(finished) : null,
            JsonSerializer.Deserialize<EpochReport[]>(Epochs, Json)!,
            (int?)ModelVersion,
            Promoted is { } promoted ? promoted != 0 : null,
            PromotionNote,
            Error,
            CancelRequested != 0,
            Worker,
            HeartbeatAt is { } heartbeat ? Time(heartbeat) : null);

        private static DateTimeOffset Time(long unixMilliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds);
    }
}
