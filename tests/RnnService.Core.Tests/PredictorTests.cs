using RnnService.Core.Data;
using Microsoft.Extensions.Logging.Abstractions;
using RnnService.Core.Serving;
using RnnService.Core.Storage;
using RnnService.Core.Training;

namespace RnnService.Core.Tests;

/// <summary>Core's "classify a name": normalisation, prior, temperature, ranking, prediction set, abstention.</summary>
public sealed class PredictorTests : IDisposable
{
    private readonly TemporaryDirectory models = new();
    private readonly LoadedModel model;

    public PredictorTests()
    {
        TinyModel.Seed(models.Path, 1);
        model = new ModelStore(models.Path).Load(1);
    }

    public void Dispose()
    {
        model.Dispose();
        models.Dispose();
    }

    [Fact]
    public void ARawNameIsNormalisedOnceAndAnsweredMostProbableFirst()
    {
        var predictor = model.Predictor;

        var prediction = predictor.Predict("  ROSSINI ", predictor.Options(top: 2));

        Assert.Equal("rossini", prediction.NormalizedName);
        Assert.Equal("Italian", prediction.Languages[0].Language);
        Assert.Equal(2, prediction.Languages.Count);
        Assert.True(prediction.Languages[0].Probability >= prediction.Languages[1].Probability);
        Assert.Equal(prediction.Languages[0].Probability, prediction.Confidence);
        Assert.Equal("Italian", prediction.PredictionSet[0]);
        Assert.Equal(("data", 0.9), (prediction.Prior, prediction.Coverage));
    }

    [Fact]
    public void TheDataPriorAnswersTheCalibratedLogitsCorrectedForTheClassWeights()
    {
        var prediction = model.Predictor.Predict("ivanov", model.Predictor.Options());

        var expected = DataPrior(model, "ivanov");
        Assert.Equal(expected.Max(), prediction.Confidence, 1e-12);
        Assert.All(prediction.Languages, language => Assert.Equal(expected[model.Classifier.Languages.ToList().IndexOf(language.Language)], language.Probability, 1e-12));
        Assert.Equal(prediction.Languages.OrderByDescending(language => language.Probability), prediction.Languages);
    }

    [Fact]
    public void AUniformPriorRaisesARareLanguageByTheInverseOfItsFrequency()
    {
        using var rare = RareSpanishModel();
        var predictor = rare.Model.Predictor;
        var shares = rare.Model.Manifest.Prior!.Frequencies;

        var data = Probabilities(predictor.Predict("lopo", predictor.Options()));
        var uniform = Probabilities(predictor.Predict("lopo", predictor.Options(PriorChoice.Uniform)));

        Assert.True(shares["Spanish"] < 0.1, $"Spanish is {shares["Spanish"]:P1} of the training names");
        Assert.True(uniform["Spanish"] > 1.5 * data["Spanish"], $"{data["Spanish"]:F4} → {uniform["Spanish"]:F4}");
        // p_uniform(k) ∝ exp(z_k / T_uniform − log π'_k): the logits at the uniform prior's own temperature, with the
        // class-weighted loss's prior π' ∝ frequency × weight taken out.
        var temperature = rare.Model.Manifest.Calibration.Priors!.Single(prior => prior.Prior == "uniform").Temperature!.Value;
        var logits = new double[predictor.Languages.Count];
        rare.Model.Classifier.Logits("lopo", logits);
        var weights = rare.Model.Manifest.Prior.ClassWeights;
        var expected = Calibration.Softmax(
            logits.Select((z, k) => z / temperature - Math.Log(shares[predictor.Languages[k]] * weights[predictor.Languages[k]])).ToArray(), 1);
        Assert.All(predictor.Languages.Select((language, k) => (language, k)), pair => Assert.Equal(expected[pair.k], uniform[pair.language], 1e-9));
        Assert.Equal("uniform", predictor.Predict("lopo", predictor.Options(PriorChoice.Uniform)).Prior);
    }

    [Fact]
    public void ACustomPriorCanRuleALanguageOut()
    {
        var options = model.Predictor.Options(PriorChoice.FromWeights(new Dictionary<string, double> { ["Italian"] = 1, ["Spanish"] = 3 }), coverage: 0.95);

        var prediction = model.Predictor.Predict("ivanov", options);

        Assert.Equal(0, Probabilities(prediction)["Russian"]);
        Assert.DoesNotContain("Russian", prediction.PredictionSet);
        Assert.Equal("custom", prediction.Prior);
    }

    [Theory]
    [InlineData("Klingon", 1.0, "Klingon")]
    [InlineData("Italian", -1.0, "Italian")]
    [InlineData("Italian", double.NaN, "Italian")]
    [InlineData("Italian", double.PositiveInfinity, "Italian")]
    [InlineData("Italian", 0.0, null)]
    public void APriorTheModelCannotAnswerWithNamesTheEntry(string language, double weight, string? blamed)
    {
        var exception = Assert.Throws<InvalidPriorException>(() => model.Predictor.Options(PriorChoice.FromWeights(new Dictionary<string, double> { [language] = weight })));

        Assert.Equal(blamed, exception.Language);
    }

    /// <summary>
    /// softmax(z / T + log f − log(f' · w)), with f the data's frequencies and f' those trained on (the same without a
    /// supplement, leaving −log w): the served data prior, computed here from the manifest rather than by the predictor.
    /// </summary>
    private static double[] DataPrior(LoadedModel loaded, string name)
    {
        var logits = new double[loaded.Classifier.Languages.Count];
        loaded.Classifier.Logits(name, logits);
        var prior = loaded.Manifest.Prior!;
        var trained = prior.TrainedFrequencies ?? prior.Frequencies;
        return Calibration.Softmax(logits.Select((z, k) =>
        {
            var language = loaded.Classifier.Languages[k];
            return z / loaded.Classifier.Temperature + Math.Log(prior.Frequencies[language]) - Math.Log(trained[language] * prior.ClassWeights[language]);
        }).ToArray(), 1);
    }

    [Fact]
    public void SupplementaryNamesTrainTheModelButTheDataPriorKeepsTheDatasMix()
    {
        using var published = new PublishedModel();
        TestData.WriteDirectory(published.Data, namesOfEach: [150, 150, 12]);
        var supplement = Directory.CreateDirectory(Path.Combine(published.Data.Path, NamesDataset.SupplementFolder)).FullName;
        File.WriteAllLines(Path.Combine(supplement, "Spanish.txt"), Enumerable.Range(0, 200).Select(i => $"Suppl{(char)('a' + i % 26)}{(char)('a' + i / 26)}ez"));
        var manifest = new TrainingRunner(new ModelStore(published.Models.Path), NullLogger<TrainingRunner>.Instance).TrainAndPublish(published.Data.Path, TinyModel.Config);
        published.Model = new ModelStore(published.Models.Path).Load(manifest.Version);

        Assert.Equal(new Dictionary<string, int> { ["Spanish"] = 200 }, manifest.Data.Supplement!.NamesPerLanguage);
        var training = manifest.Data.SizesPerLanguage.ToDictionary(size => size.Language, size => size.Training);
        var (data, trained) = (manifest.Prior!.Frequencies, manifest.Prior.TrainedFrequencies!);
        Assert.Equal((double)training["Spanish"] / training.Values.Sum(), data["Spanish"], 1e-12);
        Assert.Equal((training["Spanish"] + 200.0) / (training.Values.Sum() + 200), trained["Spanish"], 1e-12);
        var expected = DataPrior(published.Model, "lopez");
        var prediction = published.Model.Predictor.Predict("lopez", published.Model.Predictor.Options(top: 3));
        Assert.All(prediction.Languages, language => Assert.Equal(expected[published.Model.Classifier.Languages.ToList().IndexOf(language.Language)], language.Probability, 1e-12));
    }

    private static Dictionary<string, double> Probabilities(Prediction prediction) =>
        prediction.Languages.ToDictionary(language => language.Language, language => language.Probability);

    /// <summary>A tiny model trained on 150 Italian, 150 Russian and 12 Spanish names.</summary>
    private static PublishedModel RareSpanishModel()
    {
        var published = new PublishedModel();
        TestData.WriteDirectory(published.Data, namesOfEach: [150, 150, 12]);
        var manifest = new TrainingRunner(new ModelStore(published.Models.Path), NullLogger<TrainingRunner>.Instance).TrainAndPublish(published.Data.Path, TinyModel.Config);
        published.Model = new ModelStore(published.Models.Path).Load(manifest.Version);
        return published;
    }

    private sealed class PublishedModel : IDisposable
    {
        public TemporaryDirectory Data { get; } = new();
        public TemporaryDirectory Models { get; } = new();
        public LoadedModel Model { get; set; } = null!;

        public void Dispose()
        {
            Model?.Dispose();
            Models.Dispose();
            Data.Dispose();
        }
    }

    [Fact]
    public void TheExplanationsLastStepIsTheAnswer()
    {
        var options = model.Predictor.Options();

        var steps = model.Predictor.Explain("lopez", options);
        var prediction = model.Predictor.Predict("lopez", options);

        Assert.Equal(prediction.Confidence, steps[^1].Probabilities.Max());
    }

    [Fact]
    public void AnUnknownCoverageOrTopIsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Predictor.Options(coverage: 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Predictor.Options(top: 0));
        Assert.Throws<ArgumentException>(() => model.Predictor.Predict("lopez", default, new double[3], new int[3], new int[3]));
    }
}
