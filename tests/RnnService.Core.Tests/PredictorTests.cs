using RnnService.Core.Serving;
using RnnService.Core.Storage;

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
    public void TheDataPriorAnswersWhatTheCalibratedNetworkSays()
    {
        var prediction = model.Predictor.Predict("ivanov", model.Predictor.Options());
        var probabilities = model.Classifier.Predict(["ivanov"])[0];

        var expected = model.Classifier.Languages.Select((language, k) => (language, probabilities[k])).OrderByDescending(pair => pair.Item2);
        Assert.Equal(expected, prediction.Languages.Select(language => (language.Language, language.Probability)));
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
