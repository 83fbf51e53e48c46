namespace RnnService.Core.Jobs;

public static class JobStores
{
    /// <summary>
    /// PostgreSQL when <paramref name="connectionString"/> (<c>ConnectionStrings:Jobs</c>) is set; otherwise the SQLite
    /// file <c>jobs.db</c> in the models folder.
    /// </summary>
    public static SqlJobStore Create(string? connectionString, string modelsDirectory, JobStoreSettings settings, TimeProvider time) =>
        string.IsNullOrWhiteSpace(connectionString)
            ? new SqliteJobStore(Path.Combine(modelsDirectory, SqliteJobStore.FileName), settings, time)
            : new PostgresJobStore(connectionString, settings, time);
}
