using RnnService.Core.Data;
using RnnService.Core.Model;
using RnnService.Core.Storage;
using RnnService.Core.Training;

namespace RnnService.Core.Tests;

public sealed class ModelStoreTests : IDisposable
{
    private readonly TemporaryDirectory models = new();

    public void Dispose() => models.Dispose();

    [Fact]
    public void APublishedModelLoadsBackAndGivesIdenticalProbabilities()
    {
        var store = new ModelStore(models.Path);
        var split = TestData.Split();
        var trained = ModelTrainer.Train(split, TestData.TinyConfig with { Epochs = 3 });
        using var original = new NameClassifier(trained.Model, trained.Vocabulary, trained.Languages, TinyModel.Manifest.Calibration.Temperature);
        var names = new[] { "rossini", "ivanov", "lopez", "x", "ünknöwn" };

        var manifest = store.Publish(original, TinyModel.Manifest with { Architecture = trained.Model.Architecture, Vocabulary = new string([.. trained.Vocabulary.Characters]) });
        using var loaded = store.Load(manifest.Version);

        Assert.Equal(original.Predict(names), loaded.Classifier.Predict(names));
        Assert.Equal(trained.Languages, loaded.Classifier.Languages);
    }

    [Fact]
    public void ManifestDescribesTheModelCompletely()
    {
        var manifest = TinyModel.Manifest;

        Assert.Equal(1, manifest.Version);
        Assert.Equal(TestData.Languages, manifest.Languages);
        Assert.Equal(NameNormalizer.Scheme, manifest.Normalization);
        Assert.Equal(manifest.Vocabulary.Length + 1, manifest.Architecture.VocabularySize);
        Assert.Equal(TinyModel.Config, manifest.Training);
        Assert.Equal(8, manifest.Metrics.History.Count);
        Assert.Equal(TestData.Split().Test.Count, manifest.Metrics.Test.Count);
        Assert.InRange(manifest.Metrics.Test.Accuracy, 0.5, 1.0);
        Assert.Equal(3, manifest.Metrics.Test.ConfusionMatrix.Length);
        Assert.Equal(64, manifest.WeightsSha256.Length);
        Assert.Equal(TestData.Dataset().Fingerprint, manifest.Data.Fingerprint);
        Assert.Equal(TestData.Dataset().Examples.Count, manifest.Data.SizesPerLanguage.Sum(size => size.Training + size.Validation + size.Test));
    }

    [Fact]
    public void VersionsCountUpAndPublishingNeverChangesWhichIsCurrent()
    {
        var store = new ModelStore(models.Path);
        using var classifier = Loaded(1).Classifier;

        Assert.Null(store.CurrentVersion());
        Assert.Equal(1, store.Publish(classifier, TinyModel.Manifest).Version);
        Assert.Equal(1, store.CurrentVersion());   // the newest, as nothing is pinned
        Assert.Equal(2, store.Publish(classifier, TinyModel.Manifest).Version);
        Assert.Equal(1, store.CurrentVersion());   // publishing pinned what was current

        store.SetCurrent(2);
        Assert.Equal(2, store.CurrentVersion());
        store.SetCurrent(1);

        Assert.Equal(1, store.CurrentVersion());
        Assert.Equal(1, new ModelStore(models.Path).CurrentVersion()); // another process sharing the folder agrees
        Assert.Equal([1, 2], store.List().Select(m => m.Version));
        Assert.Equal(["1", "2", "current", "current.history"], Directory.EnumerateFileSystemEntries(models.Path).Select(Path.GetFileName).Order());
        Assert.Equal(["1", "2", "1"], File.ReadAllLines(Path.Combine(models.Path, ModelStore.HistoryFile)));
    }

    [Fact]
    public void ListingReadsManifestsWithoutTouchingWeights()
    {
        TinyModel.Seed(models.Path, 1);
        TinyModel.Seed(models.Path, 2);
        File.WriteAllText(Path.Combine(models.Path, "2", ModelStore.WeightsFile), "not weights at all");

        var listed = new ModelStore(models.Path).List();

        Assert.Equal([1, 2], listed.Select(m => m.Version));
        Assert.Equal(TinyModel.Manifest.Metrics.Test.Accuracy, listed[1].Metrics.Test.Accuracy);
    }

    [Fact]
    public void CorruptWeightsAreRejectedWithTheFileNamed()
    {
        TinyModel.Seed(models.Path, 1);
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
        TinyModel.Seed(models.Path, 1);
        var path = Path.Combine(models.Path, "1", ModelStore.ManifestFile);
        File.WriteAllText(path, manifest);

        var error = Assert.Throws<ModelLoadException>(() => new ModelStore(models.Path).Load(1));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Empty(new ModelStore(models.Path).List());
    }

    [Fact]
    public void MissingWeightsAreRejectedWithTheFileNamed()
    {
        TinyModel.Seed(models.Path, 1);
        var weights = Path.Combine(models.Path, "1", ModelStore.WeightsFile);
        File.Delete(weights);

        var error = Assert.Throws<ModelLoadException>(() => new ModelStore(models.Path).Load(1));

        Assert.Contains(weights, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APointerToAMissingVersionFallsBackToTheLastPromotedNeverMerelyTheNewest()
    {
        TinyModel.Seed(models.Path, 1);
        TinyModel.Seed(models.Path, 2);
        TinyModel.Seed(models.Path, 3);
        var store = new ModelStore(models.Path);
        store.SetCurrent(2);
        store.SetCurrent(1);
        File.WriteAllText(Path.Combine(models.Path, ModelStore.CurrentFile), "7\n");

        Assert.Equal(new PointerReading(null, $"{Path.Combine(models.Path, ModelStore.CurrentFile)} names version 7, which does not exist"), store.ReadPointer());
        Assert.Equal([1, 2], store.FallbackVersions());
        Assert.Equal(1, store.CurrentVersion());
        Assert.Throws<ModelLoadException>(() => store.SetCurrent(7));
    }

    [Theory]
    [InlineData("", "does not hold a version number")]
    [InlineData("junk", "does not hold a version number")]
    [InlineData("-1", "does not hold a version number")]
    [InlineData("2147483647", "does not hold a version number")]
    [InlineData("1 MB of text", "is larger than 64 bytes")]
    [InlineData("a FIFO", "is not a regular file")]
    [InlineData("deleted", "is missing")]
    public void ABrokenPointerIsReportedWithoutBlockingOrEchoingItsText(string brokenPointer, string problem)
    {
        TinyModel.Seed(models.Path, 1);
        var store = new ModelStore(models.Path);
        store.SetCurrent(1);
        var path = Path.Combine(models.Path, ModelStore.CurrentFile);
        File.Delete(path);
        switch (brokenPointer)
        {
            case "1 MB of text":
                File.WriteAllText(path, new string('9', 1 << 20));
                break;
            case "a FIFO":
                using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", [path])) mkfifo.WaitForExit();
                break;
            case "deleted":
                break;
            default:
                File.WriteAllText(path, brokenPointer);
                break;
        }

        var reading = store.ReadPointer();

        Assert.Null(reading.Version);
        Assert.Contains(problem, reading.Problem, StringComparison.Ordinal);
        Assert.True(reading.Problem!.Length < 300);
        Assert.Equal(1, store.CurrentVersion()); // the last promoted version, from the history
    }

    [Fact]
    public void EveryBrokenManifestFieldIsRefusedAsALoadErrorNamingTheFile()
    {
        TinyModel.Seed(models.Path, 1, trainingJob: Guid.NewGuid()); // every optional field present, so broken too
        var store = new ModelStore(models.Path);
        var path = Path.Combine(models.Path, "1", ModelStore.ManifestFile);
        var original = File.ReadAllText(path);
        var (variants, refused) = (0, 0);
        var refusedTrainingJobs = new List<string>();

        foreach (var (description, json) in ManifestVariants.Of(original))
        {
            File.WriteAllText(path, json);
            variants++;
            try
            {
                store.Load(1).Dispose();
            }
            catch (ModelLoadException error)
            {
                refused++;
                if (description.StartsWith("$.trainingJob ", StringComparison.Ordinal)) refusedTrainingJobs.Add(description);
                // A plausible architecture that is not the one trained (ngramBuckets 0) is a mismatch with the weights, named as such.
                var weights = Path.Combine(models.Path, "1", ModelStore.WeightsFile);
                Assert.True(error.Message.StartsWith(path, StringComparison.Ordinal) || error.Message.StartsWith(weights, StringComparison.Ordinal), $"{description}: {error.Message}");
            }
            Assert.True(store.List().Count <= 1, description);
        }

        Assert.True(variants >= 200, $"{variants} variants");
        Assert.True(refused >= variants / 2, $"{refused} of {variants} refused");
        Assert.Equal(7, refusedTrainingJobs.Count); // all but null, which reads as "no job"
        Assert.Throws<ModelLoadException>(() => store.Load(1)); // the last variant (a field made true) is refused too
    }

    [Fact]
    public void AVersionIsFoundByTheJobThatPublishedItAmongThoseMadeSinceTheJobStarted()
    {
        var job = Guid.NewGuid();
        TinyModel.Seed(models.Path, 1);
        TinyModel.Seed(models.Path, 2, trainingJob: job);
        TinyModel.Seed(models.Path, 3, trainingJob: Guid.NewGuid());
        TinyModel.Seed(models.Path, 4, manifest => "{ not json");
        var store = new ModelStore(models.Path);
        var made = TinyModel.Manifest.CreatedAt;

        Assert.Equal(2, store.FindPublishedBy(job, startedAt: made));
        Assert.Null(store.FindPublishedBy(Guid.NewGuid(), startedAt: made));
        Assert.Null(store.FindPublishedBy(job, startedAt: made + TimeSpan.FromHours(2))); // version 3 was made before the job started: no need to look further
        Assert.DoesNotContain("trainingJob", File.ReadAllText(Path.Combine(models.Path, "1", ModelStore.ManifestFile)), StringComparison.Ordinal);
        Assert.Null(store.GetManifest(1).TrainingJob); // the train command's versions name no job
    }

    [Fact]
    public void AManifestNamingTheEmptyJobIsRefused()
    {
        TinyModel.Seed(models.Path, 1, trainingJob: Guid.Empty);

        var error = Assert.Throws<ModelLoadException>(() => new ModelStore(models.Path).GetManifest(1));

        Assert.Contains("trainingJob must be a job id", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AManifestClaimingAHugeArchitectureIsRefusedByItsBounds()
    {
        TinyModel.Seed(models.Path, 1, manifest => System.Text.RegularExpressions.Regex.Replace(manifest, "\"hiddenSize\": \\d+", "\"hiddenSize\": 6000"));

        var error = Assert.Throws<ModelLoadException>(() => new ModelStore(models.Path).Load(1));

        Assert.Contains("architecture.hiddenSize must be between 1 and 1024", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AManifestClaimingAThresholdConfidenceAboveOneIsRefused()
    {
        // A threshold's confidence follows its test names (reliability bins have a confidence of another kind).
        var confidence = new System.Text.RegularExpressions.Regex("(\"testNames\": \\d+,\\s*\"confidence\": )[0-9.E-]+");
        TinyModel.Seed(models.Path, 1, manifest =>
        {
            Assert.Matches(confidence, manifest);
            return confidence.Replace(manifest, "${1}7", 1);
        });

        var error = Assert.Throws<ModelLoadException>(() => new ModelStore(models.Path).Load(1));

        Assert.Contains("confidences must be between 0 and 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void VersionNumbersAreBoundedSoTheNextNeverOverflows()
    {
        var store = new ModelStore(models.Path);
        using var classifier = Loaded(1).Classifier;
        TinyModel.Seed(models.Path, ModelStore.MaxVersion);
        Directory.CreateDirectory(Path.Combine(models.Path, "2147483647"));

        Assert.Equal([ModelStore.MaxVersion], store.Versions());
        var full = Assert.Throws<IOException>(() => store.Publish(classifier, TinyModel.Manifest));
        Assert.Contains("highest version number", full.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Directory.EnumerateDirectories(models.Path), path => Path.GetFileName(path).StartsWith('.'));
    }

    [Fact]
    public void PublishingLeavesNoStagingFolderBehindEvenWhenCancelled()
    {
        var store = new ModelStore(models.Path);
        using var classifier = Loaded(1).Classifier;
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => store.Publish(classifier, TinyModel.Manifest, cancelled.Token));

        Assert.Empty(Directory.EnumerateFileSystemEntries(models.Path));
        Assert.Empty(store.Versions());
    }

    private static LoadedModel Loaded(int version)
    {
        using var folder = new TemporaryDirectory();
        TinyModel.Seed(folder.Path, version);
        return new ModelStore(folder.Path).Load(version);
    }
}

public sealed class ConcurrentPublishingTests : IDisposable
{
    private readonly TemporaryDirectory models = new();

    public void Dispose() => models.Dispose();

    [Fact]
    public async Task PublishersRacingIntoOneFolderEachGetTheirOwnCompleteVersion()
    {
        using var source = new TemporaryDirectory();
        TinyModel.Seed(source.Path, 1);

        var published = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            var store = new ModelStore(models.Path); // one store per "process"
            using var loaded = new ModelStore(source.Path).Load(1);
            return Enumerable.Range(0, 3).Select(_ => store.Publish(loaded.Classifier, TinyModel.Manifest).Version).ToArray();
        })));

        var versions = published.SelectMany(v => v).Order().ToArray();
        Assert.Equal(Enumerable.Range(1, 12), versions);
        var check = new ModelStore(models.Path);
        foreach (var version in versions)
        {
            using var loaded = check.Load(version);
        }
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(models.Path).Select(Path.GetFileName), name => name!.StartsWith('.'));
    }

    [Fact]
    public async Task ActivationsRacingWithPublishesLeaveAPointerToAValidVersion()
    {
        using var source = new TemporaryDirectory();
        TinyModel.Seed(source.Path, 1);
        TinyModel.Seed(models.Path, 1);
        var store = new ModelStore(models.Path);
        using var loaded = new ModelStore(source.Path).Load(1);

        var publishing = Task.Run(() =>
        {
            for (var i = 0; i < 6; i++) store.Publish(loaded.Classifier, TinyModel.Manifest);
        });
        var activating = Task.Run(() =>
        {
            var other = new ModelStore(models.Path);
            for (var i = 0; i < 60; i++) other.SetCurrent(other.Versions().Max());
        });
        await Task.WhenAll(publishing, activating);

        var current = store.CurrentVersion();
        Assert.NotNull(current);
        using var served = store.Load(current.Value);
        Assert.Equal(Enumerable.Range(1, 7), store.Versions());
    }
}
