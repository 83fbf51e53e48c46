using RnnService.Core.Data;
using RnnService.Core.Storage;
using RnnService.Core.Training;

namespace RnnService.Core.Tests;

/// <summary>The default model committed under models/ is what the service serves out of the box.</summary>
public class ShippedModelTests
{
    [Fact]
    public void ShippedModelLoadsAndMeetsTheQualityBarOnItsTestSplit()
    {
        var store = new ModelStore(RepositoryPaths.Models);
        var version = store.CurrentVersion();

        Assert.NotNull(version);
        using var model = store.Load(version.Value);
        var test = model.Manifest.Metrics.Test;
        Assert.True(test.Accuracy >= 0.84, $"test accuracy {test.Accuracy}");
        Assert.True(test.MacroF1 >= 0.55, $"test macro-F1 {test.MacroF1}");
        var uniform = model.Manifest.Calibration.Priors!.Single(prior => prior.Prior == "uniform").TestAnswers!;
        Assert.True(uniform.BalancedAccuracy >= 0.63, $"balanced accuracy under the uniform prior {uniform.BalancedAccuracy}");
        var data = NamesDataset.Load(RepositoryPaths.Data);
        Assert.Equal(data.Fingerprint, model.Manifest.Data.Fingerprint);
        Assert.Equal(data.SupplementFingerprint, model.Manifest.Data.Supplement!.Fingerprint);
        Assert.True(model.Manifest.Metrics.AsServed);
        // Its 90 % sets hold each language that has names enough, with the confidence they were fitted for.
        var ninety = model.Manifest.Calibration.PredictionSets.Single(level => level.Coverage == 0.9).Languages!;
        Assert.All(ninety.Where(language => language.ValidationNames >= 22), language =>
        {
            Assert.InRange(language.Confidence!.Value, Calibration.ThresholdConfidence, 1);
            Assert.True(language.TestCoverage >= 0.85, $"{language.Language}: test coverage {language.TestCoverage}");
        });
    }

    [Fact]
    public void TheFirstShippedModelStillServesAndReadsWithTheSettingsItWasTrainedWith()
    {
        using var first = new ModelStore(RepositoryPaths.Models).Load(1);

        Assert.Equal(ModelManifest.FirstFormat, first.Manifest.Format);
        Assert.Equal(
            (1, false, false, 0, CheckpointMetric.ValidationLoss, 0.0),
            (first.Manifest.Training.Members, first.Manifest.Training.Bidirectional, first.Manifest.Training.BoundaryMarks,
                first.Manifest.Training.NgramBuckets, first.Manifest.Training.Checkpoint, first.Manifest.Training.LabelSmoothing));
        var probabilities = first.Classifier.Predict(["nakamura"])[0];
        Assert.Equal("Japanese", first.Classifier.Languages[Array.IndexOf(probabilities, probabilities.Max())]);
    }

    [Fact]
    public void TheSecondShippedModelReadsAsTrainedWithoutSupplementaryNames()
    {
        var manifest = new ModelStore(RepositoryPaths.Models).GetManifest(2);

        Assert.Equal((4, false), (manifest.Training.Members, manifest.Training.SupplementaryNames));
        Assert.Null(manifest.Data.Supplement);
        Assert.Null(manifest.Prior!.TrainedFrequencies);
        Assert.False(manifest.Metrics.AsServed);
    }

    [Theory]
    [InlineData("Nakamura", "Japanese")]
    [InlineData("Ivanov", "Russian")]
    [InlineData("Rossi", "Italian")]
    [InlineData("Papadopoulos", "Greek")]
    [InlineData("Nguyen", "Vietnamese")]
    [InlineData("Kowalski", "Polish")]
    [InlineData("O'Sullivan", "Irish")]
    [InlineData("Schmidt", "German")]
    public void ShippedModelNamesTheObviousLanguage(string name, string language)
    {
        var store = new ModelStore(RepositoryPaths.Models);
        using var model = store.Load(store.CurrentVersion()!.Value);

        var probabilities = model.Classifier.Predict([NameNormalizer.Normalize(name)])[0];

        var best = Array.IndexOf(probabilities, probabilities.Max());
        Assert.Equal(language, model.Classifier.Languages[best]);
    }
}
