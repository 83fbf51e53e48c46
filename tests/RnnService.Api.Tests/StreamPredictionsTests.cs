using System.IO.Pipelines;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using RnnService.Api.Predictions;

namespace RnnService.Api.Tests;

public sealed class StreamPredictionsTests : IClassFixture<RnnServiceApp>
{
    private static readonly string[] Names = ["Rossini", "Ivanov", "Lopez"];
    private readonly HttpClient client;

    public StreamPredictionsTests(RnnServiceApp app) => client = app.CreateClient();

    [Fact]
    public async Task ACsvStreamAnswersEveryRowInInputOrderWithTheVersionInTheHeaderAndEachRow()
    {
        const int rows = 3000;                                        // several chunks
        var body = "id,name\r\n" + string.Concat(Enumerable.Range(0, rows).Select(i => $"{i},{Names[i % 3]}\r\n"));

        var response = await client.PostAsync("/api/predictions/stream?top=1", new StringContent(body, Encoding.UTF8, "text/csv"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("1", Assert.Single(response.Headers.GetValues(PredictionStreams.ModelVersionHeader)));
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n");
        Assert.Equal("id,name,language,probability,uncertain,reasons,prediction_set,language_1,probability_1,model_version,error", lines[0]);
        var scored = lines[1..^1].Select(line => line.Split(',')).ToArray();
        Assert.Equal(Enumerable.Range(0, rows).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), scored.Select(row => row[0]));
        Assert.All(scored, row => Assert.Equal("1", row[9]));
        Assert.Equal(Enumerable.Range(0, rows).Select(i => TestData.Languages[i % 3]), scored.Select(row => row[2]));
    }

    [Fact]
    public async Task TheStreamGivesWhatASinglePredictionGives()
    {
        var single = await (await client.PostJsonAsync("/api/predictions", new { name = "Ivanov", coverage = 0.95 })).ReadAsync<PredictionResponse>();

        var response = await client.PostAsync("/api/predictions/stream?coverage=0.95", new StringContent("{\"name\":\"Ivanov\"}\n", Encoding.UTF8, "application/x-ndjson"));

        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        using var row = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(single.Languages[0].Language, row.RootElement.GetProperty("language").GetString());
        Assert.Equal(single.Confidence, row.RootElement.GetProperty("probability").GetDouble(), 6);
        Assert.Equal(single.PredictionSet.Languages, row.RootElement.GetProperty("predictionSet").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal(single.Reasons, row.RootElement.GetProperty("reasons").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public async Task BadRowsGetTheirLineAndReasonAndTheRestIsScored()
    {
        var response = await client.PostAsync("/api/predictions/stream", new StringContent("name\nRossini\n\"\"\n42\nIva\"nov\nLopez\n", Encoding.UTF8, "text/csv"));

        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(",,,,,,1,line 3: name is empty", lines[2]);
        Assert.Equal("42,,,,,,1,line 4: name has no letter", lines[3]);
        Assert.EndsWith(",1,line 5: malformed line: a quote inside an unquoted field", lines[4]);
        Assert.StartsWith("Lopez,Spanish,", lines[5]);
    }

    [Fact]
    public async Task StrictAnswersAProblemWithTheLineOfTheFirstBadRowWhenNoRowWasSent()
    {
        var response = await client.PostAsync("/api/predictions/stream?strict=true", new StringContent("name\nRossini\n123\n", Encoding.UTF8, "text/csv"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadProblemAsync();
        Assert.Equal(3, problem.GetProperty("line").GetInt32());
        Assert.Contains("name has no letter", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.False(response.Headers.Contains(PredictionStreams.ModelVersionHeader));
    }

    [Fact]
    public async Task AMissingNameColumnIsAProblemThatListsTheColumns()
    {
        var response = await client.PostAsync("/api/predictions/stream?column=surname", new StringContent("id,name\n1,Rossini\n", Encoding.UTF8, "text/csv"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("no column 'surname' (it has: id, name)", (await response.ReadProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidQueryParametersAreValidationProblemsNamingThem()
    {
        var response = await client.PostAsync("/api/predictions/stream?top=101&coverage=0.5", new StringContent("name\nRossini\n", Encoding.UTF8, "text/csv"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.ReadProblemAsync()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("top", out _));
        Assert.True(errors.TryGetProperty("coverage", out _));
    }

    [Fact]
    public async Task APriorTheModelCannotAnswerWithIsAProblemNamingTheLanguage()
    {
        var response = await client.PostAsync("/api/predictions/stream?prior=Klingon=2,Italian=1", new StringContent("name\nRossini\n", Encoding.UTF8, "text/csv"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ReadProblemAsync()).GetProperty("errors").TryGetProperty("prior.Klingon", out _));
    }

    [Fact]
    public async Task TheUniformPriorAnswersAsASinglePredictionWithItDoes()
    {
        var single = await (await client.PostJsonAsync("/api/predictions", new { name = "Lopez", prior = "uniform" })).ReadAsync<PredictionResponse>();

        var response = await client.PostAsync("/api/predictions/stream?prior=uniform", new StringContent("name\nLopez\n", Encoding.UTF8, "text/csv"));

        var fields = (await response.Content.ReadAsStringAsync()).Split("\r\n")[1].Split(',');
        Assert.Equal(single.Languages[0].Language, fields[1]);
        Assert.Equal(single.Confidence, double.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture), 6);
        Assert.Equal(string.Join('|', single.PredictionSet.Languages), fields[5]);
    }

    [Fact]
    public async Task ABodyThatIsNoneOfTheFormatsIsAnUnsupportedMediaType()
    {
        var response = await client.PostAsync("/api/predictions/stream", new StringContent("{\"names\": [\"Rossini\"]}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        await response.ReadProblemAsync();
    }

    [Fact]
    public async Task AStreamKeepsItsModelVersionWhenAnotherIsActivatedMidway()
    {
        using var app = new RnnServiceApp(null, new() { ["Serilog:MinimumLevel:Default"] = "Information" });
        using var streaming = StreamingClient(app);
        using var admin = app.CreateClientWithKey();
        app.Store.SetCurrent(1);
        TinyModel.Seed(app.ModelsDirectory, 2);
        var body = new Pipe();
        await WriteAsync(body, "id,name\n" + Rows(0, 1500));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/predictions/stream") { Content = Csv(body) };

        // HttpClient answers once the whole body is sent, so the test learns from the log that the stream has begun.
        var sending = streaming.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await WaitForLogAsync(app, "Streaming Csv rows with model version 1");
        var activated = await admin.PostAsync("/api/models/2/activate", null);
        var afterActivation = await (await streaming.PostJsonAsync("/api/predictions", new { name = "Lopez" })).ReadAsync<PredictionResponse>();
        await WriteAsync(body, Rows(1500, 3000));
        await body.Writer.CompleteAsync();
        using var response = await sending;
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n")[1..^1];

        Assert.Equal(HttpStatusCode.OK, activated.StatusCode);
        Assert.Equal(2, afterActivation.ModelVersion);
        Assert.Equal("1", Assert.Single(response.Headers.GetValues(PredictionStreams.ModelVersionHeader)));
        Assert.Equal(3000, lines.Length);
        Assert.All(lines, line => Assert.Equal("1", line.Split(',')[7]));
    }

    [Fact]
    public async Task AClientThatDisconnectsMidStreamStopsTheWork()
    {
        using var app = new RnnServiceApp(null, new() { ["Serilog:MinimumLevel:Default"] = "Information" });
        using var kestrelClient = StreamingClient(app);
        var body = new Pipe();
        await WriteAsync(body, "id,name\n" + Rows(0, 2500));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/predictions/stream") { Content = Csv(body) };
        using var disconnect = new CancellationTokenSource();

        // The body never ends: only the client going away can stop the server reading it.
        var sending = kestrelClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, disconnect.Token);
        await WaitForLogAsync(app, "Streaming Csv rows");
        await disconnect.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending);
        await WaitForLogAsync(app, "Stream client went away after");
    }

    [Fact]
    public async Task ABodyFarLargerThanTheJsonLimitIsStreamedAndTheStreamLimitIsItsOwn()
    {
        // Kestrel enforces body limits, so this runs on real Kestrel rather than the in-memory test server.
        // A budget of names that 100,000 rows do not exhaust: pacing is another test's subject.
        using var app = new RnnServiceApp(null, new() { ["Streaming:MaxBodyBytes"] = "1000000", ["RateLimiting:NamesPerWindow"] = "1000000" });
        app.UseKestrel(0);
        app.StartServer();
        using var kestrelClient = app.CreateClient();
        var withinStreamLimit = "name\n" + string.Concat(Enumerable.Repeat("Rossini\n", 100_000));   // 800 KB, the JSON cap is 256 KiB
        var overStreamLimit = "name\n" + string.Concat(Enumerable.Repeat("Rossini\n", 130_000));     // 1.04 MB

        var streamed = await kestrelClient.PostAsync("/api/predictions/stream", new StringContent(withinStreamLimit, Encoding.UTF8, "text/csv"));
        var refused = await kestrelClient.PostAsync("/api/predictions/stream", new StringContent(overStreamLimit, Encoding.UTF8, "text/csv"));

        Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
        Assert.Equal(100_002, (await streamed.Content.ReadAsStringAsync()).Split("\r\n").Length);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        await refused.ReadProblemAsync();
    }

    /// <summary>
    /// A plain client of the app on real Kestrel, which sends a body as it comes: the test server and the factory's
    /// clients take the whole body before the app sees any of it.
    /// </summary>
    private static HttpClient StreamingClient(RnnServiceApp app)
    {
        app.UseKestrel(0);
        app.StartServer();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new HttpClient { BaseAddress = new Uri(address) };
    }

    [Fact]
    public async Task AStreamLongerThanTheClientsNameBudgetSlowsToItInsteadOfFailing()
    {
        using var app = new RnnServiceApp(null, new() { ["RateLimiting:NamesPerWindow"] = "1000", ["RateLimiting:Window"] = "00:00:01" });
        using var limited = app.CreateClient();
        var started = DateTime.UtcNow;

        var response = await limited.PostAsync("/api/predictions/stream", new StringContent("id,name\n" + Rows(0, 2500), Encoding.UTF8, "text/csv"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2502, (await response.Content.ReadAsStringAsync()).Split("\r\n").Length);
        Assert.True(DateTime.UtcNow - started >= TimeSpan.FromSeconds(1.5), "2,500 names at 1,000 per second took less than two windows.");
    }

    [Fact]
    public async Task AClientWithNoNamesLeftInTheWindowHearsSoBeforeStreaming()
    {
        using var app = new RnnServiceApp(null, new() { ["RateLimiting:NamesPerWindow"] = "1000", ["RateLimiting:Window"] = "00:01:00" });
        using var limited = app.CreateClient();
        await limited.PostJsonAsync("/api/predictions/batch", new { names = Enumerable.Repeat("Lopez", 1000) });

        var response = await limited.PostAsync("/api/predictions/stream", new StringContent("name\nLopez\n", Encoding.UTF8, "text/csv"));

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        await response.ReadProblemAsync();
    }

    private static async Task WaitForLogAsync(RnnServiceApp app, string text)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!app.Logs.Lines.Any(line => line.Contains(text, StringComparison.Ordinal)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"No log line with '{text}' within 30 s: {string.Join(" / ", app.Logs.Lines)}");
            await Task.Delay(20);
        }
    }

    private static string Rows(int from, int to) => string.Concat(Enumerable.Range(from, to - from).Select(i => $"{i},{Names[i % 3]}\n"));

    private static StreamContent Csv(Pipe body)
    {
        var content = new StreamContent(body.Reader.AsStream());
        content.Headers.ContentType = new("text/csv");
        return content;
    }

    private static async Task WriteAsync(Pipe body, string text)
    {
        await body.Writer.WriteAsync(Encoding.UTF8.GetBytes(text));
        await body.Writer.FlushAsync();
    }
}
