using Npgsql;

namespace RnnService.Tests.Shared;

/// <summary>
/// The PostgreSQL server the tests use, named by <c>RNNSERVICE_TEST_POSTGRES</c> (.ci/postgres.sh starts one and sets
/// it). Without it PostgreSQL tests are skipped, so the README's test command works with the .NET SDK alone; CI sets
/// <c>RNNSERVICE_REQUIRE_POSTGRES=1</c> to make that a failure.
/// </summary>
internal static class TestPostgres
{
    /// <summary>A connection string to a new, empty schema of the test server, so each test starts from nothing.</summary>
    public static string NewSchema()
    {
        var server = Environment.GetEnvironmentVariable("RNNSERVICE_TEST_POSTGRES");
        if (string.IsNullOrEmpty(server))
        {
            const string message = "RNNSERVICE_TEST_POSTGRES is not set: start a server with `source .ci/postgres.sh` to run the PostgreSQL tests.";
            if (Environment.GetEnvironmentVariable("RNNSERVICE_REQUIRE_POSTGRES") == "1") throw new InvalidOperationException(message);
            Skip.If(true, message);
        }
        var schema = "test_" + Guid.NewGuid().ToString("N");
        using (var connection = new NpgsqlConnection(server))
        {
            connection.Open();
            using var command = new NpgsqlCommand($"CREATE SCHEMA {schema}", connection);
            command.ExecuteNonQuery();
        }
        return new NpgsqlConnectionStringBuilder(server) { SearchPath = schema }.ToString();
    }

    /// <summary>A connection string to a port where nothing listens: a database that is down.</summary>
    public static string Unreachable()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"Host=127.0.0.1;Port={port};Username=nobody;Database=none;Timeout=2";
    }
}
