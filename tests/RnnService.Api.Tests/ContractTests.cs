using System.Net;
using System.Net.Http.Headers;
using System.Text;
using RnnService.Api.Hosting;

namespace RnnService.Api.Tests;

/// <summary>The small promises of the contract: plain UTF-8 answers, relative Location headers, described problem types.</summary>
public sealed class ContractTests
{
    [Fact]
    public async Task AnswersAreInPlainUtf8AndStillEscapeMarkup()
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClient();

        var response = await client.PostAsync("/api/predictions/batch",
            new StringContent("""{"names": ["Müller", "O'Brien", "<b>Tom & Jerry</b>", "Say \"hi\""]}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("utf-8", response.Content.Headers.ContentType?.CharSet);
        var body = Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync());
        Assert.Contains("\"name\":\"Müller\"", body, StringComparison.Ordinal);
        Assert.Contains("\"name\":\"O'Brien\"", body, StringComparison.Ordinal);
        Assert.Contains("\"name\":\"\\u003Cb\\u003ETom \\u0026 Jerry\\u003C/b\\u003E\"", body, StringComparison.Ordinal);
        Assert.Contains("\"name\":\"Say \\\"hi\\\"\"", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProblemsAreInPlainUtf8Too()
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClient();

        var response = await client.PostAsync("/api/predictions", new StringContent("""{"name": "Müller", "Größe": 1}""", Encoding.UTF8, "application/json"));

        var body = Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync());
        Assert.Contains("\"Größe\":[\"Größe is not a field of this request", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheLocationOfANewJobIsAPathWhateverHostTheClientNames()
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClientWithKey();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/training")
        {
            Content = new StringContent("""{"members": 1, "hiddenSize": 8, "epochs": 1}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Host = "evil.example";

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.False(location.IsAbsoluteUri);
        Assert.Matches("^/api/training/[0-9a-f-]{36}$", location.OriginalString);
        Assert.DoesNotContain("evil.example", response.Headers.ToString() + await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await TrainingTests.WaitUntilFinished(client, location);
    }

    [Fact]
    public async Task EveryProblemTypeIsDescribedAtItsUriAndInTheReadme()
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClient();

        foreach (var kind in ProblemKinds.All)
        {
            var response = await client.GetAsync(kind.Type);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(new MediaTypeHeaderValue("text/plain") { CharSet = "utf-8" }, response.Content.Headers.ContentType);
            Assert.Contains(kind.Description, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.Equal(ProblemKinds.All.Count, ProblemKinds.All.Select(kind => kind.Code).Distinct().Count());
        var readme = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "README.md"));
        Assert.All(ProblemKinds.All, kind => Assert.Contains($"| `{kind.Code}` | {kind.Status} |", readme, StringComparison.Ordinal));
        await (await client.GetAsync("/problems/no-such-kind")).ReadProblemAsync("not-found");
    }

    [Fact]
    public async Task RefusalsAreLoggedOncePerClientAndWindowThenCounted()
    {
        await using var app = new RnnServiceApp(modelsDirectory: null, new() { ["RateLimiting:Window"] = "00:00:01" });
        using var anonymous = app.CreateClient();

        for (var i = 0; i < 5; i++) Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostJsonAsync("/api/training", new { epochs = 1 })).StatusCode);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!app.Logs.Lines.Any(line => line.StartsWith("Refused 4 more", StringComparison.Ordinal)) && DateTime.UtcNow < deadline) await Task.Delay(100);

        var refusals = app.Logs.Lines.Where(line => line.StartsWith("Refused", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, refusals.Length);   // the in-memory test server has no client address: "unknown"
        Assert.StartsWith("Refused 401 (\"api-key-missing\") to \"unknown\" for \"/api/training\"", refusals[0], StringComparison.Ordinal);
        Assert.StartsWith("Refused 4 more requests with 401 to \"unknown\" in 1 s", refusals[1], StringComparison.Ordinal);
    }
}
