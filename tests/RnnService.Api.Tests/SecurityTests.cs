using System.Net;
using System.Text;
using System.Text.Json;

namespace RnnService.Api.Tests;

public sealed class SecurityTests
{
    /// <summary>POSTs that only compute an answer and change nothing; every other non-GET operation must need the key.</summary>
    private static readonly HashSet<string> OpenOperations = ["POST /api/predictions", "POST /api/predictions/batch", "POST /api/predictions/explain", "POST /api/predictions/stream"];

    [Fact]
    public async Task EveryOperationThatChangesStateRefusesAMissingOrWrongKey()
    {
        await using var app = new RnnServiceApp();
        using var anonymous = app.CreateClient();
        using var wrongKey = app.CreateClientWithKey("wrong-key");
        var document = await (await anonymous.GetAsync("/swagger/v1/swagger.json")).ReadAsync<JsonElement>();

        var checkedOperations = new List<string>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject().Where(o => o.Name != "get"))
            {
                var name = $"{operation.Name.ToUpperInvariant()} {path.Name}";
                if (OpenOperations.Contains(name)) continue;
                var url = path.Name.Replace("{version}", "1", StringComparison.Ordinal).Replace("{id}", Guid.NewGuid().ToString(), StringComparison.Ordinal);
                foreach (var client in new[] { anonymous, wrongKey })
                {
                    using var request = new HttpRequestMessage(new HttpMethod(operation.Name.ToUpperInvariant()), url)
                    {
                        Content = new StringContent("{}", Encoding.UTF8, "application/json"),
                    };
                    var response = await client.SendAsync(request);
                    Assert.True(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden, $"{name} answered {response.StatusCode}");
                    var problem = await response.ReadProblemAsync();
                    Assert.DoesNotContain("wrong-key", problem.ToString(), StringComparison.Ordinal);
                }
                checkedOperations.Add(name);
            }
        }

        Assert.Equal(["DELETE /api/training/{id}", "POST /api/models/{version}/activate", "POST /api/training"], checkedOperations.Order());
        Assert.Empty(app.Store.Versions().Except([1]));
    }

    [Fact]
    public async Task TheApiKeyNeverReachesTheLogs()
    {
        await using var app = new RnnServiceApp(modelsDirectory: null, new() { ["Serilog:MinimumLevel:Default"] = "Verbose" });
        using var client = app.CreateClientWithKey();
        using var wrong = app.CreateClientWithKey("a-guessed-key");

        await client.PostAsync("/api/models/1/activate", null);
        await wrong.PostAsync("/api/models/1/activate", null);

        Assert.NotEmpty(app.Logs.Lines);
        Assert.DoesNotContain(app.Logs.Lines, line => line.Contains(RnnServiceApp.ApiKey, StringComparison.Ordinal));
        Assert.DoesNotContain(app.Logs.Lines, line => line.Contains("a-guessed-key", StringComparison.Ordinal));
    }

    [Fact]
    public async Task CrossOriginRequestsGetNoCorsPermission()
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClient();
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/api/predictions");
        preflight.Headers.Add("Origin", "https://evil.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/models");
        request.Headers.Add("Origin", "https://evil.example");

        var preflightResponse = await client.SendAsync(preflight);
        var response = await client.SendAsync(request);

        Assert.False(preflightResponse.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task ThePageIsServedWithSecurityHeaders()
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClient();

        var page = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", page.Headers.GetValues("X-Frame-Options").Single());
        var policy = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", policy, StringComparison.Ordinal);
    }
}
