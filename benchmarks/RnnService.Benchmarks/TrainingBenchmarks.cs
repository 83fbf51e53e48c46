using BenchmarkDotNet.Attributes;
using RnnService.Core.Data;
using RnnService.Core.Training;
using TorchSharp;

namespace RnnService.Benchmarks;

/// <summary>
/// One training epoch on data/names (14,401 training names, and the default's supplementary names beside them) with one
/// torch thread, as the service trains: the default configuration (an epoch of each of its ensemble's members, over
/// both), the first release's single RNN, and the article's
/// reference. Each run is a whole <see cref="ModelTrainer.Train"/> with Epochs = 1, so it includes building the model
/// and the epoch's validation pass.
/// </summary>
[Config(typeof(TrainingRunConfig))]
public class TrainingBenchmarks
{
    private DatasetSplit split = null!;

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(1);
        var defaults = new TrainingConfig();
        split = DatasetSplit.Create(NamesDataset.Load(RepositoryPaths.Data), defaults.ValidationFraction, defaults.TestFraction, defaults.SplitSeed);
    }

    [Benchmark(Baseline = true)]
    public double EpochDefault() => Run(new TrainingConfig { Epochs = 1, EarlyStoppingPatience = 0 });

    [Benchmark]
    public double EpochFirstRelease() => Run(TrainingConfig.FirstRelease with { Epochs = 1, EarlyStoppingPatience = 0 });

    [Benchmark]
    public double EpochReference() => Run(TrainingConfig.Reference with { Epochs = 1, EarlyStoppingPatience = 0 });

    private double Run(TrainingConfig config)
    {
        var trained = ModelTrainer.Train(split, config);
        trained.Model.Dispose();
        return trained.History[^1].ValidationLoss;
    }
}
