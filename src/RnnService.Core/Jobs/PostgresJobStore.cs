using System.Data.Common;
using Dapper;
using Npgsql;

namespace RnnService.Core.Jobs;

/// <summary>
/// The job store for a fleet on several hosts: a PostgreSQL database named by <c>ConnectionStrings:Jobs</c>. The
/// schema is created or migrated at startup by whichever instance comes first.
/// </summary>
public sealed class PostgresJobStore : SqlJobStore, IDisposable
{
    /// <summary>The advisory lock that serialises migrations across instances (any constant shared by all of them).</summary>
    private const long SchemaLock = 0x526e6e4a6f6273; // "RnnJobs"

    private readonly NpgsqlDataSource dataSource;

    public PostgresJobStore(string connectionString, JobStoreSettings settings, TimeProvider time)
        : base(settings, time)
    {
        dataSource = NpgsqlDataSource.Create(connectionString);
        var parsed = new NpgsqlConnectionStringBuilder(connectionString);
        Description = $"PostgreSQL database {parsed.Database} on {parsed.Host}:{parsed.Port}";
    }

    public override string Description { get; }

    protected override async ValueTask<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await dataSource.OpenConnectionAsync(cancellationToken);

    protected override Task LockSchemaAsync(DbConnection connection, DbTransaction transaction) =>
        connection.ExecuteAsync("SELECT pg_advisory_xact_lock(@key)", new { key = SchemaLock }, transaction);

    protected override bool IsUniqueViolation(DbException exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    public void Dispose() => dataSource.Dispose();
}
