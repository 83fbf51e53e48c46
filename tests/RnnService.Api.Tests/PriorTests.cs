using System.Net;
using RnnService.Api.Predictions;

namespace RnnService.Api.Tests;

/// <summary>The caller's prior: which one answered, and the problems a prior the model cannot answer with gets.</summary>
public sealed class PriorTests(RnnServiceApp app) : IClassFixture<RnnServiceApp>
{
    private readonly HttpClient client = app.CreateClient();

    [Fact]
    public async Task WithoutAPriorTheDataPriorAnswersAndSaysSo()
    {
        var prediction = await (await client.PostJsonAsync("/api/predictions", new { name = "Rossini" })).ReadAsync<PredictionResponse>();

        Assert.Equal("data", prediction.Prior);
    }

    [Theory]
    [InlineData("""{"name": "Rossini", "prior": "flat"}""", "prior")]
    [InlineData("""{"name": "Rossini", "prior": 3}""", "prior")]
    [InlineData("""{"name": "Rossini", "prior": ["Italian"]}""", "prior")]
    [InlineData("""{"name": "Rossini", "prior": {"Italian": "2"}}""", "prior.Italian")]
    [InlineData("""{"name": "Rossini", "prior": {"Italian": "NaN"}}""", "prior.Italian")]
    [InlineData("""{"name": "Rossini", "prior": {"Italian": null}}""", "prior.Italian")]
    public async Task APriorOfTheWrongShapeIsAProblemNamingTheField(string body, string field)
    {
        var response = await client.PostAsync("/api/predictions", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ReadProblemAsync()).GetProperty("errors").TryGetProperty(field, out _), await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("""{"name": "Rossini", "prior": {"Klingon": 1}}""", "prior.Klingon")]
    [InlineData("""{"name": "Rossini", "prior": {"Italian": -1}}""", "prior.Italian")]
    [InlineData("""{"name": "Rossini", "prior": {"Italian": 1e999}}""", "prior.Italian")]
    [InlineData("""{"name": "Rossini", "prior": {"Italian": 0, "Spanish": 0}}""", "prior")]
    [InlineData("""{"name": "Rossini", "prior": {}}""", "prior")]
    public async Task APriorTheModelCannotAnswerWithIsAProblemNamingTheField(string body, string field)
    {
        var response = await client.PostAsync("/api/predictions", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.ReadProblemAsync()).GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out _), errors.ToString());
    }

    [Fact]
    public async Task EveryEndpointAnswersWithTheRequestedPriorAndSaysWhichAnswered()
    {
        var data = await (await client.PostJsonAsync("/api/predictions", new { name = "Lopo", prior = "data" })).ReadAsync<PredictionResponse>();
        var uniform = await (await client.PostJsonAsync("/api/predictions", new { name = "Lopo", prior = "uniform" })).ReadAsync<PredictionResponse>();
        var custom = await (await client.PostJsonAsync("/api/predictions", new { name = "Lopo", prior = new { Spanish = 1, Italian = 1 } })).ReadAsync<PredictionResponse>();
        var batch = await (await client.PostJsonAsync("/api/predictions/batch", new { names = new[] { "Lopo" }, prior = "uniform" })).ReadAsync<BatchPredictionResponse>();
        var explained = await (await client.PostJsonAsync("/api/predictions/explain", new { name = "Lopo", prior = "uniform" })).ReadAsync<ExplainResponse>();

        Assert.Equal(("data", "uniform", "custom"), (data.Prior, uniform.Prior, custom.Prior));
        Assert.DoesNotContain(custom.Languages, language => language.Language == "Russian" && language.Probability > 0);
        Assert.Equal(uniform.Languages, batch.Results[0].Languages);
        Assert.Equal(uniform.Languages, explained.Prediction.Languages);
        Assert.Equal(uniform.Confidence, explained.Steps[^1].Languages[0].Probability);
    }

    [Theory]
    [InlineData("/api/predictions", """{"name": "Ivanov", "prior": "uniform"}""")]
    [InlineData("/api/predictions/batch", """{"names": ["Ivanov"], "prior": {"Russian": 1, "Arabic": 1}}""")]
    [InlineData("/api/predictions/explain", """{"name": "Ivanov", "prior": "uniform"}""")]
    public async Task AFormatOneModelAnswersOnlyWithTheDataPrior(string url, string body)
    {
        using var models = new TemporaryDirectory();
        CopyShippedModel(models.Path);
        await using var shipped = new RnnServiceApp(models.Path);
        using var shippedClient = shipped.CreateClient();

        var refused = await shippedClient.PostAsync(url, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var answered = await shippedClient.PostJsonAsync("/api/predictions", new { name = "Ivanov", prior = "data" });

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var problem = await refused.ReadProblemAsync();
        Assert.Contains("format 1", problem.GetProperty("errors").GetProperty("prior")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        var prediction = await answered.ReadAsync<PredictionResponse>();
        Assert.Equal(("data", "Russian"), (prediction.Prior, prediction.Languages[0].Language));
    }

    [Fact]
    public async Task TheModelCardGivesEachPriorsFiguresAndEachLanguagesThresholds()
    {
        var card = await (await client.GetAsync("/api/models/1/card?format=markdown")).Content.ReadAsStringAsync();
        var manifest = await (await client.GetAsync("/api/models/1")).ReadAsync<System.Text.Json.JsonElement>();

        Assert.Contains("### Under each prior", card, StringComparison.Ordinal);
        var uniform = manifest.GetProperty("calibration").GetProperty("priors").EnumerateArray().Single(p => p.GetProperty("prior").GetString() == "uniform");
        static string F(System.Text.Json.JsonElement value) => value.GetDouble().ToString("0.000", System.Globalization.CultureInfo.InvariantCulture);
        var answers = uniform.GetProperty("testAnswers");
        Assert.Contains(
            $"| uniform | {F(answers.GetProperty("accuracy"))} | {F(answers.GetProperty("balancedAccuracy"))} | {F(answers.GetProperty("topThreeAccuracy"))} | {F(uniform.GetProperty("testEce"))} |",
            card, StringComparison.Ordinal);
        Assert.All(TestData.Languages, language => Assert.Contains($"| {language} | ", card, StringComparison.Ordinal));
        // A language's own threshold comes with the confidence that it holds its level.
        var own = manifest.GetProperty("calibration").GetProperty("predictionSets").EnumerateArray()
            .SelectMany(level => level.GetProperty("languages").EnumerateArray()).First(threshold => !threshold.GetProperty("pooled").GetBoolean());
        Assert.Contains($"{F(own.GetProperty("threshold"))} [{F(own.GetProperty("confidence"))}] / {F(own.GetProperty("testCoverage"))}", card, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesThePriorAsANameOrWeights()
    {
        var document = await (await client.GetAsync("/swagger/v1/swagger.json")).ReadAsync<System.Text.Json.JsonElement>();

        foreach (var request in new[] { "PredictionRequest", "BatchPredictionRequest", "ExplainRequest" })
        {
            var prior = document.GetProperty("components").GetProperty("schemas").GetProperty(request).GetProperty("properties").GetProperty("prior");
            var choices = prior.GetProperty("oneOf");
            Assert.Equal(["data", "uniform"], choices[0].GetProperty("enum").EnumerateArray().Select(value => value.GetString()));
            Assert.Equal("number", choices[1].GetProperty("additionalProperties").GetProperty("type").GetString());
            Assert.Contains("you have no idea", prior.GetProperty("description").GetString(), StringComparison.Ordinal);
        }
    }

    private static void CopyShippedModel(string root)
    {
        var folder = Directory.CreateDirectory(Path.Combine(root, "1")).FullName;
        foreach (var file in Directory.GetFiles(Path.Combine(RepositoryPaths.Models, "1"))) File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
    }
}
