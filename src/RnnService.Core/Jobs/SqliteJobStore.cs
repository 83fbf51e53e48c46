using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;

namespace RnnService.Core.Jobs;

/// <summary>
/// The default job store: one SQLite file in the models folder, so every process sharing that folder on one host (API
/// instances, workers) shares the jobs, with nothing else to run. SQLite's file locks need a local file system: for
/// instances on several hosts use <see cref="PostgresJobStore"/>.
/// </summary>
public sealed class SqliteJobStore(string path, JobStoreSettings settings, TimeProvider time) : SqlJobStore(settings, time)
{
    public const string FileName = "jobs.db";

    // Writers wait for each other (busy timeout) rather than fail; pooled connections keep the file open between calls.
    private readonly string connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true, DefaultTimeout = 30 }.ToString();

    public override string Description => $"SQLite file {path}";

    /// <remarks>
    /// Microsoft.Data.Sqlite begins transactions IMMEDIATE, so a migration holds the write lock from its first
    /// statement and no schema lock of our own is needed.
    /// </remarks>
    public override async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            // Write-ahead logging: readers (job endpoints) never wait for the worker's writes, nor it for them.
            await using var connection = await OpenAsync(cancellationToken);
            await connection.ExecuteAsync("PRAGMA journal_mode=WAL");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or SqliteException)
        {
            throw new JobStoreUnavailableException($"The training job store ({Description}) cannot be used: {exception.Message}", exception);
        }
        await base.InitializeAsync(cancellationToken);
    }

    protected override async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    protected override bool IsUniqueViolation(DbException exception) =>
        exception is SqliteException { SqliteExtendedErrorCode: 2067 }; // SQLITE_CONSTRAINT_UNIQUE
}
