using RnnService.Core.Data;
using RnnService.Core.Model;
using RnnService.Core.Storage;
using RnnService.Core.Training;
using static TorchSharp.torch;

namespace RnnService.Core.Tests;

/// <summary>The managed fast path gives the TorchSharp forward pass's probabilities, without allocating.</summary>
public class FastRnnTests
{
    private const double Tolerance = 1e-5;

    /// <summary>Names with characters no training name uses (read as "unknown"), and edge lengths.</summary>
    private static readonly string[] UnusualNames = ["l€z", "ñóß", "x", "€", "zz9q", "o'brien-smith", "日本", "ab cd", "rossiniovez"];

    [Fact]
    public void ShippedModelMatchesTorchOnEveryNameOfItsTestSplit()
    {
        var store = new ModelStore(RepositoryPaths.Models);
        using var model = store.Load(store.CurrentVersion()!.Value);
        var training = model.Manifest.Training;
        var split = DatasetSplit.Create(NamesDataset.Load(RepositoryPaths.Data), training.ValidationFraction, training.TestFraction, training.SplitSeed);
        var names = split.Test.Select(example => example.Name).Concat(UnusualNames).ToArray();

        AssertSameProbabilities(model.Classifier, names);
        Assert.True(names.Length > 1500);
    }

    [Theory]
    [InlineData("default")]
    [InlineData("float64")]
    [InlineData("no-output-bias")]
    [InlineData("reference")]
    [InlineData("boundary-marks")]
    [InlineData("ngrams")]
    [InlineData("bidirectional")]
    [InlineData("every-option")]
    public void FreshlyTrainedTinyModelsMatchTorch(string variant)
    {
        var config = variant switch
        {
            "float64" => TestData.TinyConfig with { Precision = Precision.Float64 },
            "no-output-bias" => TestData.TinyConfig with { OutputBias = false },
            "reference" => TestData.TinyConfig with
            {
                Initialization = RnnInitialization.Identity, Precision = Precision.Float64, OutputBias = false, Batching = Batching.GlobalPadding,
            },
            "boundary-marks" => TestData.TinyConfig with { BoundaryMarks = true },
            "ngrams" => TestData.TinyConfig with { NgramBuckets = 64 },
            "bidirectional" => TestData.TinyConfig with { Bidirectional = true },
            "every-option" => TestData.TinyConfig with { BoundaryMarks = true, NgramBuckets = 97, Bidirectional = true, Precision = Precision.Float64 },
            _ => TestData.TinyConfig,
        };
        var split = TestData.Split();
        var trained = ModelTrainer.Train(split, config);
        var temperature = variant == "float64" ? 0.7 : 1.0;      // a calibrated classifier's temperature reaches the fast path too
        using var classifier = new NameClassifier(trained.Model, trained.Vocabulary, trained.Languages, temperature);
        Assert.Equal(config.Precision, classifier.Model.Architecture.Precision);
        Assert.Equal(config.OutputBias, classifier.Model.Architecture.OutputBias);
        Assert.Equal((config.BoundaryMarks, config.NgramBuckets, config.Bidirectional),
            (classifier.Model.Architecture.BoundaryMarks, classifier.Model.Architecture.NgramBuckets, classifier.Model.Architecture.Bidirectional));

        var names = split.Test.Concat(split.Validation).Select(example => example.Name).Concat(UnusualNames).ToArray();
        AssertSameProbabilities(classifier, names);
    }

    [Fact]
    public void ModelLoadedFromAStoreMatchesTorch()
    {
        using var models = new TemporaryDirectory();
        TinyModel.Seed(models.Path, 3);
        using var model = new ModelStore(models.Path).Load(3);

        AssertSameProbabilities(model.Classifier, [.. TestData.Split().Test.Select(example => example.Name), .. UnusualNames]);
    }

    [Theory]
    [InlineData(4, true, Precision.Float32)]
    [InlineData(100, false, Precision.Float64)] // the reference's size: outputs padded to whole SIMD blocks
    [InlineData(512, false, Precision.Float32)]
    [InlineData(600, true, Precision.Float32)]  // beyond the stack scratch: rents from the array pool
    [InlineData(100, true, Precision.Float32, true)]
    [InlineData(600, false, Precision.Float64, true)]
    public void UntrainedModelsOfAnySizeMatchTorch(int hiddenSize, bool outputBias, Precision precision, bool everyOption = false)
    {
        var vocabulary = Vocabulary.FromNames(["abcdefghij"]);
        var architecture = new RnnArchitecture(hiddenSize, vocabulary.Size, 5, outputBias, precision, everyOption, everyOption ? 31 : 0, everyOption);
        var model = new CharRnn(architecture, random: new Generator(11));
        using var classifier = new NameClassifier(model, vocabulary, ["A", "B", "C", "D", "E"]);

        AssertSameProbabilities(classifier, ["abc", "jihgfedcba", "a", "xyz", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(2.0)]
    [InlineData(1.37)]
    public void TemperatureDividesTheLogitsBeforeTheSoftmax(double temperature)
    {
        using var models = new TemporaryDirectory();
        TinyModel.Seed(models.Path, 1);
        using var model = new ModelStore(models.Path).Load(1);
        var classifier = model.Classifier;
        var fast = new FastRnn(classifier.Model);
        string[] names = ["rossini", "ivanov", "perez", "l€z"];

        var expected = TorchProbabilities(classifier, names, temperature);
        var actual = fast.Predict(names, classifier.Vocabulary, temperature);

        for (var b = 0; b < names.Length; b++) AssertClose(expected[b], actual[b], names[b]);
        var sharper = fast.Predict(names, classifier.Vocabulary, temperature / 2);
        Assert.All(names.Select((_, b) => (actual[b].Max(), sharper[b].Max())), pair => Assert.True(pair.Item2 >= pair.Item1 - 1e-12));
    }

    [Fact]
    public void LeadingPaddingChangesNothingAndAnEmptyNameReadsOnlyTheBias()
    {
        using var models = new TemporaryDirectory();
        TinyModel.Seed(models.Path, 1);
        using var model = new ModelStore(models.Path).Load(1);
        var fast = new FastRnn(model.Classifier.Model);
        var languages = model.Classifier.Languages.Count;
        var encoded = model.Classifier.Vocabulary.Encode("rossini");

        var plain = new double[languages];
        var padded = new double[languages];
        var empty = new double[languages];
        var onlyPadding = new double[languages];
        fast.Predict(encoded, plain);
        fast.Predict([0, 0, 0, .. encoded], padded);
        fast.Predict(ReadOnlySpan<int>.Empty, empty);
        fast.Predict([0, 0], onlyPadding);

        Assert.Equal(plain, padded);
        Assert.Equal(empty, onlyPadding);
        Assert.Equal(1.0, empty.Sum(), 1e-12);
    }

    [Fact]
    public void InvalidArgumentsAreRejected()
    {
        using var models = new TemporaryDirectory();
        TinyModel.Seed(models.Path, 1);
        using var model = new ModelStore(models.Path).Load(1);
        var fast = new FastRnn(model.Classifier.Model);
        var probabilities = new double[fast.LanguageCount];

        Assert.Throws<ArgumentOutOfRangeException>(() => fast.Predict([2, fast.VocabularySize + 1], probabilities));
        Assert.Throws<ArgumentOutOfRangeException>(() => fast.Predict([-1], probabilities));
        Assert.Throws<ArgumentException>(() => fast.Predict([2], new double[fast.LanguageCount + 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => fast.Predict([2], probabilities, temperature: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => fast.Predict([2], probabilities, temperature: double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => fast.Predict([2], probabilities, temperature: double.PositiveInfinity));
    }

    [Fact]
    public void PredictingOneNameAllocatesNothing()
    {
        var store = new ModelStore(RepositoryPaths.Models);
        using var model = store.Load(store.CurrentVersion()!.Value);
        var fast = new FastRnn(model.Classifier.Model);
        var vocabulary = model.Classifier.Vocabulary;
        var encoded = vocabulary.Encode("nakamura");
        var probabilities = new double[fast.LanguageCount];
        string[] names = ["nakamura", "schmidt", "o'sullivan", "papadopoulos", "l€z"];
        for (var i = 0; i < 100; i++)
        {
            fast.Predict(encoded, probabilities);
            fast.Predict(names[i % names.Length], vocabulary, probabilities, temperature: 1.5);
        }

        // The runtime itself may allocate once on this thread while the loop runs (tiered JIT, on-stack replacement);
        // an allocation in Predict would show in every round, so one round without any is the proof.
        var fewestAllocated = long.MaxValue;
        for (var round = 0; round < 5; round++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 2_000; i++)
            {
                fast.Predict(encoded, probabilities);
                fast.Predict(names[i % names.Length], vocabulary, probabilities, temperature: 1.5);
            }
            fewestAllocated = Math.Min(fewestAllocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        Assert.Equal(0, fewestAllocated);
    }

    /// <summary>
    /// Every name's fast probabilities, from the batch and the single-name path at the classifier's (calibrated)
    /// temperature, equal TorchSharp's (<see cref="NameClassifier.PredictWithTorch"/>) within the tolerance.
    /// </summary>
    private static void AssertSameProbabilities(NameClassifier classifier, string[] names)
    {
        var fast = new FastRnn(classifier.Model);
        var expected = classifier.PredictWithTorch(names);
        var batch = fast.Predict(names, classifier.Vocabulary, classifier.Temperature);
        Assert.Equal(batch, classifier.Predict(names)); // what the classifier serves is the fast path
        var single = new double[classifier.Languages.Count];

        Assert.Equal(names.Length, batch.Length);
        for (var b = 0; b < names.Length; b++)
        {
            AssertClose(expected[b], batch[b], names[b]);
            fast.Predict(classifier.Vocabulary.Encode(names[b]), single, classifier.Temperature);
            Assert.Equal(batch[b], single);
        }
    }

    /// <summary>softmax(CharRnn.forward / temperature) of the names, batched and left-padded, as NameClassifier computes it.</summary>
    private static double[][] TorchProbabilities(NameClassifier classifier, string[] names, double temperature)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var logits = classifier.Model.forward(LeftPadding.Pack(names.Select(classifier.Vocabulary.Encode).ToArray(), classifier.Model.Architecture));
        var flat = nn.functional.softmax(logits / temperature, 1).to(ScalarType.Float64).data<double>().ToArray();
        var languages = classifier.Languages.Count;
        return names.Select((_, b) => flat[(b * languages)..((b + 1) * languages)]).ToArray();
    }

    private static void AssertClose(double[] expected, double[] actual, string name)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst <= Tolerance, $"'{name}': largest difference {worst:E2} > {Tolerance:E0}");
        Assert.Equal(1.0, actual.Sum(), 1e-9);
    }
}
