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
    [InlineData("", "Name must not be empty.")]
    [InlineData("   ", "Name must not be empty.")]
    [InlineData("123 -'", "Name must contain at least one letter.")]
    [InlineData("Abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijk", "Name must be at most 50 characters long.")]
    public async Task AnInvalidNameIsAProblemNamingTheField(string name, string message)
    {
        var response = await client.PostJsonAsync("/api/predictions", new { name });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadProblemAsync();
        Assert.Equal(message, problem.GetProperty("errors").GetProperty("Name")[0].GetString());
    }

    [Fact]
    public async Task AMissingNameIsAProblemNamingTheField()
    {
        var response = await client.PostJsonAsync("/api/predictions", new { top = 3 });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ReadProblemAsync()).GetProperty("errors").TryGetProperty("Name", out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    public async Task TopOutsideItsRangeIsAProblem(int top)
    {
        var response = await client.PostJsonAsync("/api/predictions", new { name = "Lopez", top });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ReadProblemAsync()).GetProperty("errors").TryGetProperty("Top", out _));
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
        var response = await client.PostAsync("/api/predictions", new StringContent("{\"name\": 42}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Path: $.name", (await response.ReadProblemAsync()).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWrongContentTypeIsAProblem()
    {
        var response = await client.PostAsync("/api/predictions", new StringContent("name=Lopez", Encoding.UTF8, "application/x-www-form-urlencoded"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        await response.ReadProblemAsync();
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
        await response.ReadProblemAsync();
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
        Assert.Equal("Name must contain at least one letter.", errors.GetProperty("Names[1]")[0].GetString());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1001)]
    public async Task ABatchOutsideItsSizeLimitsIsAProblem(int count)
    {
        var response = await client.PostJsonAsync("/api/predictions/batch", new { names = Enumerable.Repeat("Lopez", count).ToArray() });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ReadProblemAsync()).GetProperty("errors").TryGetProperty("Names", out _));
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
