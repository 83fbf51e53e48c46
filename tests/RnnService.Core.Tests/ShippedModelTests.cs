using RnnService.Core.Data;
using RnnService.Core.Storage;

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
        // The bars sit a little under what docs/model.md reports for the default recipe over three seeds.
        Assert.True(test.Accuracy >= 0.82, $"test accuracy {test.Accuracy}");
        Assert.True(test.MacroF1 >= 0.52, $"test macro-F1 {test.MacroF1}");
        Assert.True(test.BalancedAccuracy >= 0.50, $"test balanced accuracy {test.BalancedAccuracy}");
        Assert.True(test.TopThreeAccuracy >= 0.94, $"test top-3 accuracy {test.TopThreeAccuracy}");
        Assert.True(model.Manifest.Architecture.Bidirectional && model.Manifest.Architecture.BoundaryMarks && model.Manifest.Architecture.NgramBuckets > 0);
        Assert.Equal(NamesDataset.Load(RepositoryPaths.Data).Fingerprint, model.Manifest.Data.Fingerprint);
    }

    [Fact]
    public void TheFirstShippedVersionWrittenBeforeTheArchitectureOptionsStillLoadsAndServes()
    {
        var store = new ModelStore(RepositoryPaths.Models);
        using var model = store.Load(1);

        Assert.Equal((false, 0, false), (model.Manifest.Architecture.BoundaryMarks, model.Manifest.Architecture.NgramBuckets, model.Manifest.Architecture.Bidirectional));
        Assert.Null(model.Manifest.Metrics.Test.BalancedAccuracy);
        var names = new[] { "nakamura", "ivanov", "rossi", "schmidt" };
        var probabilities = model.Classifier.Predict(names);
        var torch = model.Classifier.PredictWithTorch(names);
        Assert.Equal(["Japanese", "Russian", "Italian", "German"], probabilities.Select(p => model.Classifier.Languages[Array.IndexOf(p, p.Max())]));
        Assert.All(probabilities.Zip(torch), pair => Assert.All(pair.First.Zip(pair.Second), values => Assert.Equal(values.Second, values.First, 1e-5)));
    }

    [Theory]
    [InlineData("Nakamura", "Japanese")]
    [InlineData("Ivanov", "Russian")]
    [InlineData("Esposito", "Italian")]   // not "Rossi": the data lists it under English as well as Italian
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
