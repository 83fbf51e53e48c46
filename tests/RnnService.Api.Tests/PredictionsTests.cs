using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using RnnService.Api.Predictions;

namespace RnnService.Api.Tests;

public sealed class PredictionsTests : IClassFixture<RnnServiceApp>
{
    private readonly RnnServiceApp app;
    private readonly HttpClient client;

    public PredictionsTests(RnnServiceApp app)
    {
        this.app = app;
        client = app.CreateClient();
    }

    [Fact]
    public async Task PredictingANameReturnsEveryLanguageSortedWithTheModelVersion()
    {
        var response = await client.PostJsonAsync("/api/predictions", new { name = "  Rossini " });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var prediction = await response.ReadAsync<PredictionResponse>();
        Assert.Equal("Rossini", prediction.Name); // echoed without its meaningless whitespace
        Assert.Equal("rossini", prediction.NormalizedName);
        Assert.Equal(1, prediction.ModelVersion);
        Assert.Equal(TestData.Languages.Order(), prediction.Languages.Select(l => l.Language).Order());
        Assert.Equal(prediction.Languages.OrderByDescending(l => l.Probability), prediction.Languages);
        Assert.Equal(1.0, prediction.Languages.Sum(l => l.Probability), 1e-6);
        Assert.Equal("Italian", prediction.Languages[0].Language);
    }

    [Fact]
    public async Task TopKeepsOnlyTheMostProbableLanguages()
    {
        var all = await (await client.PostJsonAsync("/api/predictions", new { name = "Ivanov" })).ReadAsync<PredictionResponse>();
        var top = await (await client.PostJsonAsync("/api/predictions", new { name = "Ivanov", top = 2 })).ReadAsync<PredictionResponse>();

        Assert.Equal(all.Languages.Take(2), top.Languages);
    }

    [Fact]
    public async Task CharactersTheModelNeverSawAreAnsweredNotRejected()
    {
        var response = await client.PostJsonAsync("/api/predictions", new { name = "中mega😀ez" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("中mega😀ez", (await response.ReadAsync<PredictionResponse>()).NormalizedName);
    }

    [Theory]
    [InlineData("", "name must not be empty.")]
    [InlineData("   ", "name must not be empty.")]
    [InlineData("123 -'", "name must contain at least one letter.")]
    [InlineData("Abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijk", "name must be at most 50 characters long (it has 51).")]
    public async Task AnInvalidNameIsAProblemNamingTheField(string name, string message)
    {
        var response = await client.PostJsonAsync("/api/predictions", new { name });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadProblemAsync();
        Assert.Equal(message, problem.GetProperty("errors").GetProperty("name")[0].GetString());
    }

    [Fact]
    public async Task AMissingNameIsAProblemNamingTheField()
    {
        var response = await client.PostJsonAsync("/api/predictions", new { top = 3 });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ReadProblemAsync()).GetProperty("errors").TryGetProperty("name", out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    public async Task TopOutsideItsRangeIsAProblem(int top)
    {
        var response = await client.PostJsonAsync("/api/predictions", new { name = "Lopez", top });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ReadProblemAsync()).GetProperty("errors").TryGetProperty("top", out _));
    }

    [Theory]
    [InlineData("{\"name\": ")]
    [InlineData("{\"name\": 42}")]
    [InlineData("[\"Lopez\"]")]
    [InlineData("null")]
    public async Task MalformedJsonIsAProblem(string body)
    {
        var response = await client.PostAsync("/api/predictions", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await response.ReadProblemAsync();
    }

    [Fact]
    public async Task AMalformedBodyIsAProblemThatSaysWhere()
    {
        var response = await client.PostAsync("/api/predictions", new StringContent("{\"name\": \"Lopez\",\n \"top\": }", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadProblemAsync("invalid-json");
        Assert.Equal("The request body is not valid JSON: reading stopped at line 2, byte 9.", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("/api/predictions", "{\"name\": 42}", "name", "name must be a string.")]
    [InlineData("/api/predictions", "{\"name\": \"Lopez\", \"top\": \"3\"}", "top", "top must be a whole number (not in quotes).")]
    [InlineData("/api/predictions", "{\"name\": \"Lopez\", \"coverage\": \"0.9\"}", "coverage", "coverage must be a number (not in quotes).")]
    [InlineData("/api/predictions", "{\"name\": \"Smith\", \"foo\": 1}", "foo", "foo is not a field of this request, which takes: name, top, coverage, prior.")]
    [InlineData("/api/predictions/batch", "{\"names\": [\"Lopez\", 7]}", "names[1]", "names[1] must be a string.")]
    [InlineData("/api/predictions/batch", "{\"names\": \"Lopez\"}", "names", "names must be an array of strings.")]
    [InlineData("/api/predictions/explain", "{\"name\": \"Lopez\", \"Top\": 3}", "Top", "Top is not a field of this request, which takes: name, top, prior.")]
    public async Task AFieldTheRequestDoesNotTakeIsAProblemNamingIt(string url, string body, string field, string message)
    {
        var response = await client.PostAsync(url, new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadProblemAsync("validation");
        Assert.Equal(message, problem.GetProperty("errors").GetProperty(field)[0].GetString());
    }

    [Fact]
    public async Task AWrongContentTypeIsAProblem()
    {
        var response = await client.PostAsync("/api/predictions", new StringContent("name=Lopez", Encoding.UTF8, "application/x-www-form-urlencoded"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("application/json", (await response.ReadProblemAsync("unsupported-media-type")).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABodyOverTheSizeLimitIsAProblem()
    {
        // Kestrel enforces the limit, so this test runs the app on real Kestrel rather than the in-memory test server.
        using var app = new RnnServiceApp();
        app.UseKestrel(0);
        app.StartServer();
        using var kestrelClient = app.CreateClient();

        var response = await kestrelClient.PostAsync("/api/predictions", new StringContent($"{{\"name\": \"{new string('a', 300_000)}\"}}", Encoding.UTF8, "application/json"));

        Assert.True(response.StatusCode == HttpStatusCode.RequestEntityTooLarge, await response.Content.ReadAsStringAsync());
        Assert.Equal("The request body is larger than the limit of 262,144 bytes.", (await response.ReadProblemAsync("body-too-large")).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task ABatchIsAnsweredInOrderByOneVersion()
    {
        string[] names = ["Lopez", "Ivanov", "Rossini", "Ivanov"];

        var response = await client.PostJsonAsync("/api/predictions/batch", new { names, top = 1 });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var batch = await response.ReadAsync<BatchPredictionResponse>();
        Assert.Equal(names, batch.Results.Select(r => r.Name));
        Assert.Equal(["Spanish", "Russian", "Italian", "Russian"], batch.Results.Select(r => r.Languages.Single().Language));
        Assert.All(batch.Results, r => Assert.Equal(batch.ModelVersion, r.ModelVersion));
    }

    [Fact]
    public async Task BatchAndSinglePredictionsAgree()
    {
        var single = await (await client.PostJsonAsync("/api/predictions", new { name = "Kovalev" })).ReadAsync<PredictionResponse>();
        var batch = await (await client.PostJsonAsync("/api/predictions/batch", new { names = new[] { "x", "Kovalev", "Abcdefghijklmnopq" } })).ReadAsync<BatchPredictionResponse>();

        var fromBatch = batch.Results[1].Languages.ToDictionary(l => l.Language, l => l.Probability);
        Assert.All(single.Languages, l => Assert.Equal(l.Probability, fromBatch[l.Language], 1e-6));
    }

    [Fact]
    public async Task ABatchWithAnInvalidNameNamesItsIndex()
    {
        var response = await client.PostJsonAsync("/api/predictions/batch", new { names = new[] { "Lopez", "42", "Rossi" } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.ReadProblemAsync()).GetProperty("errors");
        Assert.Equal("names[1] must contain at least one letter.", errors.GetProperty("names[1]")[0].GetString());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1001)]
    public async Task ABatchOutsideItsSizeLimitsIsAProblem(int count)
    {
        var response = await client.PostJsonAsync("/api/predictions/batch", new { names = Enumerable.Repeat("Lopez", count).ToArray() });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var message = (await response.ReadProblemAsync("validation")).GetProperty("errors").GetProperty("names")[0].GetString();
        Assert.Equal(count == 0 ? "names must hold at least one name." : "names may hold at most 1,000 names.", message);
    }

    [Fact]
    public async Task TheLargestAllowedBatchIsAnswered()
    {
        var names = Enumerable.Range(0, PredictionLimits.MaxBatchSize).Select(i => "Name" + new string('a', i % 40)).ToArray();

        var response = await client.PostJsonAsync("/api/predictions/batch", new { names, top = 1 });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(PredictionLimits.MaxBatchSize, (await response.ReadAsync<BatchPredictionResponse>()).Results.Count);
    }

    [Fact]
    public void APredictionAllocatesLittleMoreThanItsAnswer()
    {
        const int Count = 1000;
        var predictions = app.Services.GetRequiredService<PredictionService>();
        var kept = new List<PredictionResponse>(2 * Count);
        for (var i = 0; i < Count; i++) predictions.Predict("Nakamura", top: null, coverage: null);   // warm: tiered JIT, caches

        var predicting = AllocatedBytes(() => { for (var i = 0; i < Count; i++) kept.Add(predictions.Predict("Nakamura", top: null, coverage: null)); });
        var answer = kept[0];
        var copying = AllocatedBytes(() => { for (var i = 0; i < Count; i++) kept.Add(CopyOf(answer)); });

        // Beyond its answer, a prediction may allocate its model lease and a string or two, not arrays, LINQ or tensors.
        Assert.InRange((predicting - copying) / Count, 0, 96);
    }

    private static long AllocatedBytes(Action action)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    /// <summary>A new answer object by object, allocating what an answer consists of and nothing else.</summary>
    private static PredictionResponse CopyOf(PredictionResponse answer)
    {
        var languages = new LanguageProbability[answer.Languages.Count];
        for (var i = 0; i < languages.Length; i++) languages[i] = new LanguageProbability(answer.Languages[i].Language, answer.Languages[i].Probability);
        var set = new string[answer.PredictionSet.Languages.Count];
        for (var i = 0; i < set.Length; i++) set[i] = answer.PredictionSet.Languages[i];
        return new PredictionResponse(
            answer.Name, new string(answer.NormalizedName), languages, answer.ModelVersion, answer.Confidence, answer.Uncertain,
            new List<string>(answer.Reasons), new PredictionSet(answer.PredictionSet.Coverage, set), answer.Transliterated, answer.Prior, answer.Id);
    }
}
