using Microsoft.Extensions.Logging.Abstractions;
using RnnService.Core.Data;
using RnnService.Core.Model;
using RnnService.Core.Storage;
using RnnService.Core.Training;

namespace RnnService.Core.Tests;

/// <summary>Trains one tiny model for all tests in the class; each test gets its own empty models folder.</summary>
public sealed class TinyModelFixture : IDisposable
{
    private readonly TemporaryDirectory data = new();

    public TinyModelFixture()
    {
        TestData.WriteDirectory(data);
        using var seed = new TemporaryDirectory();
        var store = new ModelStore(seed.Path);
        Manifest = new TrainingRunner(store, NullLogger<TrainingRunner>.Instance).TrainAndPublish(data.Path, TestData.TinyConfig with { Epochs = 8 });
        Files = File.ReadAllBytes(Path.Combine(seed.Path, "1", ModelStore.WeightsFile));
        ManifestJson = File.ReadAllText(Path.Combine(seed.Path, "1", ModelStore.ManifestFile));
    }

    public ModelManifest Manifest { get; }
    public byte[] Files { get; }
    public string ManifestJson { get; }

    /// <summary>Copies the trained model into <paramref name="root"/> as <paramref name="version"/>.</summary>
    public void Seed(string root, int version)
    {
        var folder = Directory.CreateDirectory(Path.Combine(root, version.ToString(System.Globalization.CultureInfo.InvariantCulture))).FullName;
        File.WriteAllBytes(Path.Combine(folder, ModelStore.WeightsFile), Files);
        File.WriteAllText(Path.Combine(folder, ModelStore.ManifestFile), ManifestJson.Replace("\"version\": 1,", $"\"version\": {version},", StringComparison.Ordinal));
    }

    public void Dispose() => data.Dispose();
}

public sealed class ModelStoreTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>, IDisposable
{
    private readonly TemporaryDirectory models = new();

    public void Dispose() => models.Dispose();

    [Fact]
    public void APublishedModelLoadsBackAndGivesIdenticalProbabilities()
    {
        var store = new ModelStore(models.Path);
        var split = TestData.Split();
        var trained = ModelTrainer.Train(split, TestData.TinyConfig with { Epochs = 3 });
        using var original = new NameClassifier(trained.Model, trained.Vocabulary, trained.Languages);
        var names = new[] { "rossini", "ivanov", "lopez", "x", "ünknöwn" };

        var manifest = store.Publish(original, fixture.Manifest with { Architecture = trained.Model.Architecture, Vocabulary = new string([.. trained.Vocabulary.Characters]) });
        using var loaded = store.Load(manifest.Version);

        Assert.Equal(original.Predict(names), loaded.Classifier.Predict(names));
        Assert.Equal(trained.Languages, loaded.Classifier.Languages);
    }

    [Fact]
    public void ManifestDescribesTheModelCompletely()
    {
        var manifest = fixture.Manifest;

        Assert.Equal(1, manifest.Version);
        Assert.Equal(TestData.Languages, manifest.Languages);
        Assert.Equal(NameNormalizer.Scheme, manifest.Normalization);
        Assert.Equal(manifest.Vocabulary.Length + 1, manifest.Architecture.VocabularySize);
        Assert.Equal(TestData.TinyConfig with { Epochs = 8 }, manifest.Training);
        Assert.Equal(8, manifest.Metrics.History.Count);
        Assert.Equal(TestData.Split().Test.Count, manifest.Metrics.Test.Count);
        Assert.InRange(manifest.Metrics.Test.Accuracy, 0.5, 1.0);
        Assert.Equal(3, manifest.Metrics.Test.ConfusionMatrix.Length);
        Assert.Equal(64, manifest.WeightsSha256.Length);
        Assert.Equal(TestData.Dataset().Fingerprint, manifest.Data.Fingerprint);
        Assert.Equal(TestData.Dataset().Examples.Count, manifest.Data.SizesPerLanguage.Sum(size => size.Training + size.Validation + size.Test));
    }

    [Fact]
    public void VersionsCountUpAndTheNewestIsCurrentUntilAPointerSaysOtherwise()
    {
        var store = new ModelStore(models.Path);
        using var classifier = Loaded(fixture, 1).Classifier;

        Assert.Null(store.CurrentVersion());
        Assert.Equal(1, store.Publish(classifier, fixture.Manifest).Version);
        Assert.Equal(2, store.Publish(classifier, fixture.Manifest).Version);
        Assert.Equal(2, store.CurrentVersion());

        store.SetCurrent(1);

        Assert.Equal(1, store.CurrentVersion());
        Assert.Equal(1, new ModelStore(models.Path).CurrentVersion()); // another process sharing the folder agrees
        Assert.Equal([1, 2], store.List().Select(m => m.Version));
        Assert.Equal(["1", "2", "current"], Directory.EnumerateFileSystemEntries(models.Path).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void ListingReadsManifestsWithoutTouchingWeights()
    {
        fixture.Seed(models.Path, 1);
        fixture.Seed(models.Path, 2);
        File.WriteAllText(Path.Combine(models.Path, "2", ModelStore.WeightsFile), "not weights at all");

        var listed = new ModelStore(models.Path).List();

        Assert.Equal([1, 2], listed.Select(m => m.Version));
        Assert.Equal(fixture.Manifest.Metrics.Test.Accuracy, listed[1].Metrics.Test.Accuracy);
    }

    [Fact]
    public void CorruptWeightsAreRejectedWithTheFileNamed()
    {
        fixture.Seed(models.Path, 1);
        var weights = Path.Combine(models.Path, "1", ModelStore.WeightsFile);
        var bytes = File.ReadAllBytes(weights);
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(weights, bytes);

        var error = Assert.Throws<ModelLoadException>(() => new ModelStore(models.Path).Load(1));

        Assert.Contains(weights, error.Message, StringComparison.Ordinal);
        Assert.Contains("checksum", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{ not json")]
    [InlineData("{}")]
    public void AnUnreadableManifestIsRejectedWithTheFileNamed(string manifest)
    {
        fixture.Seed(models.Path, 1);
        var path = Path.Combine(models.Path, "1", ModelStore.ManifestFile);
        File.WriteAllText(path, manifest);

        var error = Assert.Throws<ModelLoadException>(() => new ModelStore(models.Path).Load(1));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Empty(new ModelStore(models.Path).List());
        Assert.Null(new ModelStore(models.Path).CurrentVersion());
    }

    [Fact]
    public void MissingWeightsAreRejectedWithTheFileNamed()
    {
        fixture.Seed(models.Path, 1);
        var weights = Path.Combine(models.Path, "1", ModelStore.WeightsFile);
        File.Delete(weights);

        var error = Assert.Throws<ModelLoadException>(() => new ModelStore(models.Path).Load(1));

        Assert.Contains(weights, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APointerToAMissingVersionFallsBackToTheNewest()
    {
        fixture.Seed(models.Path, 1);
        fixture.Seed(models.Path, 3);
        File.WriteAllText(Path.Combine(models.Path, ModelStore.CurrentFile), "7\n");

        Assert.Equal(3, new ModelStore(models.Path).CurrentVersion());
        Assert.Throws<ModelLoadException>(() => new ModelStore(models.Path).SetCurrent(7));
    }

    [Fact]
    public void PublishingLeavesNoStagingFolderBehindEvenWhenCancelled()
    {
        var store = new ModelStore(models.Path);
        using var classifier = Loaded(fixture, 1).Classifier;
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => store.Publish(classifier, fixture.Manifest, cancelled.Token));

        Assert.Empty(Directory.EnumerateFileSystemEntries(models.Path));
        Assert.Empty(store.Versions());
    }

    private static LoadedModel Loaded(TinyModelFixture source, int version)
    {
        using var folder = new TemporaryDirectory();
        source.Seed(folder.Path, version);
        return new ModelStore(folder.Path).Load(version);
    }
}
