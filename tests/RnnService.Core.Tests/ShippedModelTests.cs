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
        Assert.True(test.Accuracy >= 0.80, $"test accuracy {test.Accuracy}");
        Assert.True(test.MacroF1 >= 0.50, $"test macro-F1 {test.MacroF1}");
        Assert.Equal(NamesDataset.Load(RepositoryPaths.Data).Fingerprint, model.Manifest.Data.Fingerprint);
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
