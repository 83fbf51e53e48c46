using System.Net;
using RnnService.Api.Predictions;

namespace RnnService.Api.Tests;

public sealed class ExplainTests(RnnServiceApp app) : IClassFixture<RnnServiceApp>
{
    private readonly HttpClient client = app.CreateClient();

    [Theory]
    [InlineData("Rossini")]
    [InlineData("Lo pez")]
    [InlineData("Ω")]
    public async Task TheLastStepEqualsThePredictionExactly(string name)
    {
        var explained = await (await client.PostJsonAsync("/api/predictions/explain", new { name })).ReadAsync<ExplainResponse>();
        var predicted = await (await client.PostJsonAsync("/api/predictions", new { name })).ReadAsync<PredictionResponse>();

        Assert.Equal((predicted.Name, predicted.NormalizedName, predicted.ModelVersion), (explained.Prediction.Name, explained.Prediction.NormalizedName, explained.Prediction.ModelVersion));
        Assert.Equal(predicted.Languages, explained.Prediction.Languages);
        var lastStep = explained.Steps[^1].Languages.ToDictionary(l => l.Language, l => l.Probability);
        Assert.All(lastStep, l => Assert.Equal(predicted.Languages.Single(p => p.Language == l.Key).Probability, l.Value));
    }

    [Fact]
    public async Task EveryCharacterIsAStepWithItsHiddenStateAndTopLanguagesPlusTheWinner()
    {
        var response = await client.PostJsonAsync("/api/predictions/explain", new { name = "Iva€", top = 1 });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var explained = await response.ReadAsync<ExplainResponse>();
        Assert.Equal("iva€", explained.NormalizedName);
        Assert.Equal(["i", "v", "a", "€"], explained.Steps.Select(s => s.Character));
        Assert.Equal([1, 2, 3, 4], explained.Steps.Select(s => s.Position));
        Assert.Equal([true, true, true, false], explained.Steps.Select(s => s.Known));
        var winner = explained.Prediction.Languages[0].Language;
        Assert.All(explained.Steps, step =>
        {
            Assert.Equal((TinyModel.Config.Bidirectional ? 2 : 1) * TinyModel.Config.HiddenSize, step.Hidden.Count);   // both directions' states
            Assert.All(step.Hidden, v => Assert.Equal(Math.Round(v, 4), v));
            Assert.InRange(step.Languages.Count, 1, 2);
            Assert.Contains(step.Languages, l => l.Language == winner);
            Assert.Equal(step.Languages.OrderByDescending(l => l.Probability), step.Languages);
        });
    }

    [Fact]
    public async Task AnInvalidNameIsTheSameProblemAsForPredictions()
    {
        var response = await client.PostJsonAsync("/api/predictions/explain", new { name = "1234" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("name must contain at least one letter.", (await response.ReadProblemAsync("validation")).GetProperty("errors").GetProperty("name")[0].GetString());
    }
}
