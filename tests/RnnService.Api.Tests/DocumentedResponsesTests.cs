using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace RnnService.Api.Tests;

/// <summary>
/// The OpenAPI document against the service, both ways: every status and media type the document lists for an
/// operation is produced here, and everything produced here is listed. (tests/contract checks the bodies against
/// the schemas, with a generated client.)
/// </summary>
public sealed class DocumentedResponsesTests
{
    private const string Json = "application/json";

    [Fact]
    public async Task EveryDocumentedResponseIsProducedAndEveryProducedOneIsDocumented()
    {
        var produced = new SortedSet<string>(StringComparer.Ordinal);
        var undocumented = new List<string>();
        // Real Kestrel: it enforces the body limit (413); low limits make the 429s cheap to reach.
        await using var app = new RnnServiceApp(modelsDirectory: null, new()
        {
            ["RateLimiting:ReadsPerWindow"] = "80",
            ["RateLimiting:PredictionsPerWindow"] = "40",
            ["RateLimiting:Window"] = "00:01:00",
            ["RateLimiting:FailedKeysPerWindow"] = "1",
            ["Streaming:MaxBodyBytes"] = "100000",
        });
        app.UseKestrel(0);
        app.StartServer();
        TinyModel.Seed(app.ModelsDirectory, 2);
        TinyModel.Seed(app.ModelsDirectory, 3);
        File.WriteAllText(Path.Combine(app.ModelsDirectory, "2", "weights.bin"), "truncated");   // exists, cannot be served
        using var keyed = app.CreateClientWithKey();
        using var anonymous = app.CreateClient();
        using var wrongKey = app.CreateClientWithKey("not-the-key");
        var document = await (await anonymous.GetAsync("/swagger/v1/swagger.json")).ReadAsync<JsonElement>();
        var documented = Documented(document);

        async Task<HttpResponseMessage> Call(HttpClient client, string method, string url, string? body = null, string contentType = Json, string? accept = null)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), url);
            if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, contentType);
            if (accept is not null) request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
            var response = await client.SendAsync(request);
            var key = $"{method} {Template(document, new Uri(url, UriKind.Relative).OriginalString.Split('?')[0])} {(int)response.StatusCode} {response.Content.Headers.ContentType?.MediaType}";
            produced.Add(key);
            if (!documented.Contains(key)) undocumented.Add(key);
            return response;
        }

        var bodies = new Dictionary<string, string>
        {
            ["/api/predictions"] = """{"name": "Lopez"}""",
            ["/api/predictions/batch"] = """{"names": ["Lopez"]}""",
            ["/api/predictions/explain"] = """{"name": "Lopez"}""",
        };
        var tooLarge = $$"""{"name": "{{new string('a', 300_000)}}"}""";
        foreach (var (url, body) in bodies)
        {
            await Call(anonymous, "POST", url, body);
            await Call(anonymous, "POST", url, """{"name": 1, "names": 1}""");
            await Call(anonymous, "POST", url, body, "text/plain");
            await Call(anonymous, "POST", url, tooLarge);
        }
        const string Stream = "/api/predictions/stream";
        await Call(anonymous, "POST", Stream, "name\nLopez\n", "text/csv");
        await Call(anonymous, "POST", Stream, "name\tid\nLopez\t1\n", "text/tab-separated-values");
        await Call(anonymous, "POST", Stream, "{\"name\": \"Lopez\"}\n", "application/x-ndjson");
        await Call(anonymous, "POST", Stream + "?top=101&coverage=0.5", "name\nLopez\n", "text/csv");
        await Call(anonymous, "POST", Stream, "name\n" + new string('a', 300_000) + "\n", "text/csv");                 // 413: over Streaming:MaxBodyBytes
        await Call(anonymous, "POST", Stream, """{"name": "Lopez"}""");                                              // 415
        var job = await (await Call(keyed, "POST", "/api/training", """{"members": 1, "hiddenSize": 8, "epochs": 200, "earlyStoppingPatience": 0}""")).ReadAsync<JsonElement>();
        var id = job.GetProperty("id").GetString();
        await Call(keyed, "POST", "/api/training", "{}");                                   // 409: one job at a time
        await Call(keyed, "POST", "/api/training", """{"epochs": 0}""");
        await Call(keyed, "POST", "/api/training", "{}", "text/plain");
        await Call(keyed, "POST", "/api/training", tooLarge);
        await Call(anonymous, "POST", "/api/training", "{}");
        await Call(anonymous, "GET", "/api/training");
        await Call(anonymous, "GET", $"/api/training/{id}");
        await Call(anonymous, "GET", $"/api/training/{Guid.NewGuid()}");
        await Call(anonymous, "DELETE", $"/api/training/{id}");
        await Call(keyed, "DELETE", $"/api/training/{Guid.NewGuid()}");
        await Call(keyed, "DELETE", $"/api/training/{id}");
        await TrainingTests.WaitUntilFinished(keyed, new Uri($"/api/training/{id}", UriKind.Relative));
        await Call(keyed, "DELETE", $"/api/training/{id}");                                 // 409: already finished
        await Call(anonymous, "GET", "/api/models");
        await Call(anonymous, "GET", "/api/models/current");
        await Call(anonymous, "GET", "/api/models/1");
        await Call(anonymous, "GET", "/api/models/99");
        await Call(anonymous, "GET", "/api/models/1/card");
        await Call(anonymous, "GET", "/api/models/1/card?format=markdown");
        await Call(anonymous, "GET", "/api/models/1/card?format=html");
        await Call(anonymous, "GET", "/api/models/99/card");
        await Call(anonymous, "POST", "/api/models/1/activate");
        await Call(keyed, "POST", "/api/models/99/activate");
        await Call(keyed, "POST", "/api/models/2/activate");                                 // 422: corrupt
        await Call(keyed, "POST", "/api/models/1/activate");
        BadFilesTests.SetImmutable(app.ModelsDirectory, true);
        try
        {
            await Call(keyed, "POST", "/api/models/3/activate");                             // 503: the pointer cannot be written
        }
        finally
        {
            BadFilesTests.SetImmutable(app.ModelsDirectory, false);
        }
        // 406: controllers answer JSON only (a started job or an activation still happens; only the answer is refused).
        foreach (var (method, url) in new[]
        {
            ("GET", "/api/models"), ("GET", "/api/models/current"), ("GET", "/api/models/1"), ("GET", "/api/models/1/card"), ("POST", "/api/models/1/activate"),
            ("GET", "/api/training"), ("GET", $"/api/training/{id}"),
        })
        {
            await Call(keyed, method, url, accept: "text/xml");
        }
        await Call(keyed, "POST", "/api/training", """{"members": 1, "hiddenSize": 8, "epochs": 200, "earlyStoppingPatience": 0}""", accept: "text/xml");
        var running = (await (await keyed.GetAsync("/api/training")).ReadAsync<JsonElement>()).EnumerateArray().First(j => j.GetProperty("state").GetString() == "Running" || j.GetProperty("state").GetString() == "Queued");
        await Call(keyed, "DELETE", $"/api/training/{running.GetProperty("id").GetString()}", accept: "text/xml");
        // 429: the wrong-key lockout on the operations that need the key, the per-client limits on the others.
        await Call(wrongKey, "POST", "/api/training", "{}");
        await Call(wrongKey, "POST", "/api/training", "{}");
        await Call(wrongKey, "DELETE", $"/api/training/{id}");
        await Call(wrongKey, "POST", "/api/models/1/activate");
        for (var i = 0; i < 40; i++) await Call(anonymous, "POST", "/api/predictions", bodies["/api/predictions"]);
        foreach (var url in bodies.Keys) await Call(anonymous, "POST", url, bodies[url]);
        for (var i = 0; i < 80; i++) await Call(anonymous, "GET", "/api/models");
        foreach (var url in new[] { "/api/models", "/api/models/current", "/api/models/1", "/api/models/1/card", "/api/training", $"/api/training/{id}" })
        {
            await Call(anonymous, "GET", url);
        }
        // 503: no model to serve.
        using var noModels = new TemporaryDirectory();
        await using var empty = new RnnServiceApp(noModels.Path);
        using var emptyClient = empty.CreateClient();
        foreach (var (url, body) in bodies) await Call(emptyClient, "POST", url, body);
        await Call(emptyClient, "POST", Stream, "name\nLopez\n", "text/csv");
        await Call(emptyClient, "GET", "/api/models/current");
        // 429 on a stream: the client's names for the window are spent.
        await using var limitedApp = new RnnServiceApp(modelsDirectory: null, new() { ["RateLimiting:NamesPerWindow"] = "1000", ["RateLimiting:Window"] = "00:01:00" });
        using var limited = limitedApp.CreateClient();
        await limited.PostJsonAsync("/api/predictions/batch", new { names = Enumerable.Repeat("Lopez", 1000) });
        await Call(limited, "POST", Stream, "name\nLopez\n", "text/csv");
        // 503 on the job endpoints: the shared job store cannot be reached.
        await using var storeDown = new RnnServiceApp(modelsDirectory: null, new() { ["ConnectionStrings:Jobs"] = TestPostgres.Unreachable() });
        using var storeDownClient = storeDown.CreateClientWithKey();
        await Call(storeDownClient, "GET", "/api/training");
        await Call(storeDownClient, "GET", $"/api/training/{id}");
        await Call(storeDownClient, "POST", "/api/training", "{}");
        await Call(storeDownClient, "DELETE", $"/api/training/{id}");

        Assert.True(undocumented.Count == 0, "produced but not documented:\n" + string.Join("\n", undocumented.Distinct()));
        Assert.True(documented.IsSubsetOf(produced), "documented but never produced:\n" + string.Join("\n", documented.Except(produced)));
    }

    /// <summary>"METHOD /template status media/type" for every response the document lists.</summary>
    private static SortedSet<string> Documented(JsonElement document)
    {
        var documented = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                foreach (var response in operation.Value.GetProperty("responses").EnumerateObject())
                {
                    foreach (var mediaType in response.Value.GetProperty("content").EnumerateObject())
                    {
                        documented.Add($"{operation.Name.ToUpperInvariant()} {path.Name} {response.Name} {mediaType.Name}");
                    }
                }
            }
        }
        return documented;
    }

    /// <summary>The document's path template a concrete path matches; literal segments beat parameters ("current" is not a version).</summary>
    private static string Template(JsonElement document, string path) =>
        document.GetProperty("paths").EnumerateObject()
            .Select(p => p.Name)
            .Where(template => Regex.IsMatch(path, "^" + Regex.Replace(template, @"\{[^}]+\}", "[^/]+") + "$"))
            .OrderBy(template => template.Count(c => c == '{'))
            .FirstOrDefault() ?? path;
}
