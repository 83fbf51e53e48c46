using System.Net;
using RnnService.Api.Models;
using RnnService.Api.Predictions;

namespace RnnService.Api.Tests;

/// <summary>Calibrated answers, prediction sets, abstention, model cards and privacy, as a client sees them.</summary>
public sealed class TrustTests(RnnServiceApp app) : IClassFixture<RnnServiceApp>
{
    private readonly HttpClient client = app.CreateClient();

    [Fact]
    public async Task APredictionCarriesItsConfidenceAndAPredictionSetForTheRequestedCoverage()
    {
        var standard = await Predict(new { name = "Rossini" });
        var wide = await Predict(new { name = "Rossini", coverage = 0.95 });

        Assert.Equal(standard.Languages[0].Probability, standard.Confidence);
        Assert.Equal(0.9, standard.PredictionSet.Coverage);
        Assert.Equal("Italian", standard.PredictionSet.Languages[0]);
        Assert.Equal(0.95, wide.PredictionSet.Coverage);
        Assert.True(wide.PredictionSet.Languages.Count >= standard.PredictionSet.Languages.Count);
        Assert.False(standard.Uncertain);
        Assert.Empty(standard.Reasons);
    }

    [Fact]
    public async Task AnUnsupportedCoverageIsAProblem()
    {
        var response = await client.PostJsonAsync("/api/predictions", new { name = "Rossini", coverage = 0.5 });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("0.8, 0.9, 0.95", (await response.ReadProblemAsync()).GetProperty("errors").GetProperty("coverage")[0].GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("中村", new[] { "unknown_characters", "unsupported_script" })]
    [InlineData("Lo€€ez", new[] { "unknown_characters" })]
    public async Task UntrustworthyAnswersAreFlaggedWithReasonsButStillAnswered(string name, string[] reasons)
    {
        var prediction = await Predict(new { name });

        Assert.True(prediction.Uncertain);
        Assert.All(reasons, reason => Assert.Contains(reason, prediction.Reasons));
        Assert.Equal(3, prediction.Languages.Count);
    }

    [Fact]
    public async Task ANameInAnotherScriptGetsEveryLanguageAsItsPredictionSet()
    {
        var prediction = await Predict(new { name = "中村", coverage = 0.8 });

        Assert.Equal(TestData.Languages.Order(), prediction.PredictionSet.Languages.Order());
    }

    [Fact]
    public async Task CyrillicNamesAreRomanisedAndSaySo()
    {
        var prediction = await Predict(new { name = "Иванов" });

        Assert.Equal("ivanov", prediction.NormalizedName);
        Assert.True(prediction.Transliterated);
        Assert.Equal("Russian", prediction.Languages[0].Language);
        Assert.DoesNotContain("unsupported_script", prediction.Reasons);
    }

    [Fact]
    public async Task BatchResultsEchoTheCallersIds()
    {
        var response = await client.PostJsonAsync("/api/predictions/batch", new { names = new[] { "Lopez", "Ivanov" }, ids = new[] { "row-7", "row-9" } });

        var batch = await response.ReadAsync<BatchPredictionResponse>();
        Assert.Equal(["row-7", "row-9"], batch.Results.Select(r => r.Id));
        var withoutIds = await (await client.PostJsonAsync("/api/predictions/batch", new { names = new[] { "Lopez" } })).Content.ReadAsStringAsync();
        Assert.DoesNotContain("\"id\"", withoutIds, StringComparison.Ordinal);
    }

    [Fact]
    public async Task IdsMustMatchTheNamesOneToOne()
    {
        var response = await client.PostJsonAsync("/api/predictions/batch", new { names = new[] { "Lopez", "Ivanov" }, ids = new[] { "row-7" } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await response.ReadProblemAsync()).GetProperty("errors").TryGetProperty("ids", out _));
    }

    [Fact]
    public async Task AModelCardDescribesUseLimitsScoresAndCalibration()
    {
        var card = await (await client.GetAsync("/api/models/1/card")).ReadAsync<ModelCard>();
        var markdown = await client.GetAsync("/api/models/1/card?format=markdown");

        Assert.Equal(1, card.Version);
        Assert.Equal(TinyModel.Manifest.Metrics.Test.Accuracy, card.TestAccuracy);
        Assert.Equal(TinyModel.Manifest.Metrics.Test.BalancedAccuracy, card.TestBalancedAccuracy);
        Assert.Equal(
            "Character-level vanilla RNN (hidden size 16; a second RNN reading right to left; begin/end-of-name symbols; 4,096 hashed character bigram/trigram inputs)",
            card.Network);
        Assert.InRange(card.TestTopThreeAccuracy!.Value, card.TestAccuracy, 1.0);
        Assert.Equal(3, card.PerLanguage.Count);
        Assert.Contains(card.Limitations, limitation => limitation.Contains("Italian, Russian, Spanish", StringComparison.Ordinal));
        Assert.Equal(TinyModel.Manifest.Calibration.Temperature, card.Calibration.Temperature);
        Assert.Equal("text/markdown", markdown.Content.Headers.ContentType?.MediaType);
        var text = await markdown.Content.ReadAsStringAsync();
        Assert.StartsWith("# Model card: RnnService model version 1", text, StringComparison.Ordinal);
        Assert.Contains("| Italian |", text, StringComparison.Ordinal);
        Assert.Contains("balanced accuracy (mean recall per language)", text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/models/9/card")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/api/models/1/card?format=pdf")).StatusCode);
    }

    private async Task<PredictionResponse> Predict(object request) =>
        await (await client.PostJsonAsync("/api/predictions", request)).ReadAsync<PredictionResponse>();
}

public sealed class PrivacyTests
{
    private const string SecretName = "Zqxjkvowski";

    [Fact]
    public async Task AtTheDefaultSettingsNoSubmittedNameReachesTheLogs()
    {
        await using var app = new RnnServiceApp(modelsDirectory: null, new() { ["Serilog:MinimumLevel:Default"] = "Information" });

        await SubmitEverywhere(app);

        Assert.Contains(app.Logs.Lines, line => line.StartsWith("HTTP \"POST\" \"/api/predictions\" responded 200", StringComparison.Ordinal)); // requests were logged...
        Assert.DoesNotContain(app.Logs.Lines, line => line.Contains(SecretName, StringComparison.OrdinalIgnoreCase)); // ...without names
    }

    [Fact]
    public async Task NameLoggingCanBeSwitchedOnForDebugging()
    {
        await using var app = new RnnServiceApp(modelsDirectory: null, new() { ["Serilog:MinimumLevel:Default"] = "Information", ["Privacy:LogNames"] = "true" });

        await SubmitEverywhere(app);

        Assert.Contains(app.Logs.Lines, line => line.Contains(SecretName, StringComparison.Ordinal));
    }

    private static async Task SubmitEverywhere(RnnServiceApp app)
    {
        using var client = app.CreateClient();
        await client.PostJsonAsync("/api/predictions", new { name = SecretName });
        await client.PostJsonAsync("/api/predictions/batch", new { names = new[] { SecretName, "x" } });
        await client.PostJsonAsync("/api/predictions/explain", new { name = SecretName });
        await client.PostJsonAsync("/api/predictions", new { name = SecretName + new string('z', 60) }); // rejected: too long
    }
}
