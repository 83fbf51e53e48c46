using RnnService.Core.Data;
using RnnService.Core.Training;

namespace RnnService.Core.Tests;

public class TrainerTests
{
    [Fact]
    public void ATinyModelLearnsLanguagesFromNameEndingsAndReportsEveryEpoch()
    {
        var split = TestData.Split();
        var reports = new List<EpochReport>();

        var trained = ModelTrainer.Train(split, TestData.TinyConfig, new SynchronousProgress<EpochReport>(reports.Add));
        using var model = trained.Model;
        var test = Evaluator.Evaluate(model, trained.Vocabulary, split.Languages, split.Test);

        Assert.Equal(Enumerable.Range(1, TestData.TinyConfig.Epochs), reports.Select(r => r.Epoch));
        Assert.True(reports[^1].TrainingLoss < reports[0].TrainingLoss / 2, $"training loss {reports[0].TrainingLoss} → {reports[^1].TrainingLoss}");
        Assert.True(test.Accuracy >= 0.9, $"test accuracy {test.Accuracy}");
        Assert.True(reports.Zip(reports.Skip(1)).All(pair => pair.Second.Elapsed > pair.First.Elapsed));
    }

    [Fact]
    public void AnEnsembleTrainsEachMemberOnItsOwnSeedAndServesTheirMeanAsOneRnnOfTheConfiguredSize()
    {
        var split = TestData.Split();
        var config = TestData.TinyConfig with { Epochs = 3, Members = 2 };
        var reports = new List<EpochReport>();

        var trained = ModelTrainer.Train(split, config, new SynchronousProgress<EpochReport>(reports.Add));
        var members = Enumerable.Range(0, 2)
            .Select(k => ModelTrainer.Train(split, config with { Members = 1, HiddenSize = config.HiddenSize / 2, Seed = ModelTrainer.MemberSeed(config.Seed, k) }))
            .ToArray();
        using var model = trained.Model;
        using var first = members[0].Model;
        using var second = members[1].Model;

        Assert.Equal(config.HiddenSize, model.Architecture.HiddenSize);
        Assert.Equal(Enumerable.Range(1, 6), reports.Select(r => r.Epoch));
        Assert.All(reports, r => Assert.Equal(6, r.Epochs));
        Assert.NotEqual(members[0].History[0].ValidationLoss, members[1].History[0].ValidationLoss);
        var mean = Evaluator.Logits(first, trained.Vocabulary, split.Test).Zip(Evaluator.Logits(second, trained.Vocabulary, split.Test))
            .Select(pair => pair.First.Zip(pair.Second, (a, b) => (a + b) / 2).ToArray());
        foreach (var (ensemble, expected) in Evaluator.Logits(model, trained.Vocabulary, split.Test).Zip(mean))
        {
            Assert.Equal(expected, ensemble, (a, b) => Math.Abs(a - b) < 1e-5);
        }
        Assert.Contains(new TrainingConfig { Members = 3 }.Validate(), error => error.Setting == "HiddenSize" && error.Message.Contains("multiple of the number of members", StringComparison.Ordinal));
    }

    [Fact]
    public void TrainingIsReproducibleFromItsSeed()
    {
        var split = TestData.Split();
        var config = TestData.TinyConfig with { Epochs = 3 };

        var first = ModelTrainer.Train(split, config);
        var second = ModelTrainer.Train(split, config);
        using var a = first.Model;
        using var b = second.Model;

        Assert.Equal(first.History.Select(r => r.ValidationLoss), second.History.Select(r => r.ValidationLoss));
    }

    [Fact]
    public void EarlyStoppingKeepsTheWeightsOfTheEpochWithTheLowestValidationLoss()
    {
        var split = TestData.Split();
        // A learning rate this high makes validation loss bounce, so the best epoch is rarely the last one.
        var config = TestData.TinyConfig with
        {
            Epochs = 12, LearningRate = 0.3, Schedule = LearningRateSchedule.Constant, WarmupEpochs = 0, EarlyStoppingPatience = 3, Checkpoint = CheckpointMetric.ValidationLoss,
        };

        var trained = ModelTrainer.Train(split, config);
        using var model = trained.Model;
        var validation = Evaluator.Evaluate(model, trained.Vocabulary, split.Languages, split.Validation);

        var best = trained.History.MinBy(r => r.ValidationLoss)!;
        Assert.Equal(best.Epoch, trained.BestEpoch);
        Assert.Equal(best.ValidationLoss, validation.Loss, 1e-5);
        Assert.True(trained.History.Count <= config.Epochs);
        Assert.True(trained.History.Count == config.Epochs || trained.History.Count == trained.BestEpoch + config.EarlyStoppingPatience);
    }

    [Fact]
    public void CheckpointingOnMacroF1KeepsTheEpochWithTheBestValidationMacroF1OverTheFullSchedule()
    {
        var split = TestData.Split();
        var config = TestData.TinyConfig with
        {
            Epochs = 8, LearningRate = 0.3, Schedule = LearningRateSchedule.Constant, Checkpoint = CheckpointMetric.ValidationMacroF1, WarmupEpochs = 2,
        };

        var trained = ModelTrainer.Train(split, config);
        using var model = trained.Model;
        var validation = Evaluator.Evaluate(model, trained.Vocabulary, split.Languages, split.Validation);

        var best = trained.History.MaxBy(r => r.ValidationMacroF1)!;
        Assert.Equal(config.Epochs, trained.History.Count);
        Assert.Equal(best.Epoch, trained.BestEpoch);
        Assert.Equal(best.ValidationMacroF1!.Value, validation.MacroF1, 1e-9);
        Assert.Equal([0.1, 0.2, 0.3], trained.History.Take(3).Select(r => Math.Round(r.LearningRate, 12)));   // warm-up, then the rate
    }

    [Theory]
    [InlineData("müller", "muller")]
    [InlineData("núñez", "nunez")]
    [InlineData("françois", "francois")]
    [InlineData("łukasz", "łukasz")]     // ł is a letter of its own, not l with a mark
    [InlineData("smith", "smith")]
    public void AccentStrippingRemovesCombiningMarksOnly(string name, string expected) =>
        Assert.Equal(expected, ModelTrainer.WithoutAccents(name));

    [Fact]
    public void CancellationStopsTrainingBetweenBatches()
    {
        using var cancellation = new CancellationTokenSource();
        var progress = new SynchronousProgress<EpochReport>(report =>
        {
            if (report.Epoch == 2) cancellation.Cancel();
        });

        Assert.ThrowsAny<OperationCanceledException>(() => ModelTrainer.Train(TestData.Split(), TestData.TinyConfig, progress, cancellation.Token));
    }

    [Fact]
    public void ClassWeightsFavourRareLanguagesAsTheExponentSays()
    {
        var languages = new[] { "Big", "Small" };
        var examples = Enumerable.Range(0, 90).Select(i => new LabeledName("b" + i, 0))
            .Concat(Enumerable.Range(0, 10).Select(i => new LabeledName("s" + i, 1)));
        var split = new DatasetSplit(languages, examples.ToArray(), [], []);
        double[] Weights(double exponent) => [.. languages.Select(language => ModelTrainer.Prior(split, split.Training, exponent).ClassWeights[language])];

        Assert.Equal([1.0, 1.0], Weights(0));
        var balanced = Weights(1);
        Assert.Equal(90 * balanced[0], 10 * balanced[1], 1e-9); // each language weighs the same in total
        var halfway = Weights(0.5);
        Assert.Equal(3.0, halfway[1] / halfway[0], 1e-9);       // sqrt(90 / 10)
    }

    [Fact]
    public void SupplementaryNamesMoveThePriorTheLossFitsButNotTheDatasMix()
    {
        var languages = new[] { "Big", "Small" };
        var examples = Enumerable.Range(0, 90).Select(i => new LabeledName("b" + i, 0)).Concat(Enumerable.Range(0, 10).Select(i => new LabeledName("s" + i, 1)));
        var split = new DatasetSplit(languages, examples.ToArray(), [], []) { Supplement = [.. Enumerable.Range(0, 30).Select(i => new LabeledName("x" + i, 1))] };

        Assert.Equal(100, ModelTrainer.TrainingNames(split, new TrainingConfig { SupplementaryNames = false }).Count);
        var names = ModelTrainer.TrainingNames(split, new TrainingConfig());
        Assert.Equal(130, names.Count);
        var prior = ModelTrainer.Prior(split, names, 1);

        Assert.Equal((0.9, 0.1), (prior.Frequencies["Big"], prior.Frequencies["Small"]));
        Assert.Equal((90 / 130.0, 40 / 130.0), (prior.TrainedFrequencies!["Big"], prior.TrainedFrequencies["Small"]));
        Assert.Equal(90 * prior.ClassWeights["Big"], 40 * prior.ClassWeights["Small"], 1e-9);   // weighed over what is trained on
        // Exponent 1 fits the scores to a uniform prior, so the data prior adds back exactly the data's log-odds.
        var data = prior.DataAdjustment(languages);
        Assert.Equal(Math.Log(9), data[0] - data[1], 1e-9);
        var uniform = prior.UniformAdjustment(languages);
        Assert.Equal(0, uniform[0] - uniform[1], 1e-9);
        Assert.Null(ModelTrainer.Prior(split, split.Training, 1).TrainedFrequencies);
    }

    [Fact]
    public void InvalidSettingsAreNamedWithTheirRange()
    {
        var errors = new TrainingConfig { HiddenSize = 100_000, LearningRate = 0, Epochs = 0 }.Validate();

        Assert.Equal(["HiddenSize", "Epochs", "LearningRate"], errors.Select(e => e.Setting).ToArray());
        Assert.Contains("between 4 and 512", errors[0].Message, StringComparison.Ordinal);
        Assert.Empty(new TrainingConfig().Validate());
        Assert.Empty(TrainingConfig.Reference.Validate());
    }
}

/// <summary>Reports on the caller's thread, unlike <see cref="Progress{T}"/>, so tests see every report before they assert.</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
