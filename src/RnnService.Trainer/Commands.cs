using Microsoft.Extensions.Logging;
using RnnService.Core.Storage;
using RnnService.Core.Training;

namespace RnnService.Trainer;

internal static class Commands
{
    public static int Train(TrainingRunner runner, ModelStore store, TrainerOptions options, TrainingConfig config, ILogger logger, CancellationToken cancellationToken)
    {
        logger.LogInformation("Training {Preset} configuration on {Data}: {Config}", options.Preset, options.DataDirectory, config);
        var manifest = runner.TrainAndPublish(options.DataDirectory, config, new EpochLogger(logger), cancellationToken);
        if (options.Activate)
        {
            var serving = ServedManifest(store, logger);
            var (promote, note) = runner.DecidePromotion(manifest, serving, options.DataDirectory, options.PromotionTolerance);
            if (promote) store.SetCurrent(manifest.Version);
            logger.LogInformation("Model version {Version} {Outcome} because {Note}", manifest.Version, promote ? "is current" : "is published but not current", note);
        }
        var test = manifest.Metrics.Test;
        logger.LogInformation(
            "Model version {Version}: test accuracy {Accuracy:F4}, macro-F1 {MacroF1:F4}, balanced accuracy {Balanced:F4}, top-3 {TopThree:F4} ({Count} test examples); trained in {Seconds:F0} s with {Threads} torch thread(s)",
            manifest.Version, test.Accuracy, test.MacroF1, test.BalancedAccuracy, test.TopThreeAccuracy, test.Count, manifest.Metrics.History[^1].Elapsed.TotalSeconds, options.TorchThreads);
        return 0;
    }

    /// <summary>The current version's manifest, or null when there is none or it cannot be read (a new model then replaces it).</summary>
    private static ModelManifest? ServedManifest(ModelStore store, ILogger logger)
    {
        if (store.CurrentVersion() is not { } current) return null;
        try
        {
            return store.GetManifest(current);
        }
        catch (ModelLoadException exception)
        {
            logger.LogWarning("The current version {Version} cannot be read: {Reason}", current, exception.Message);
            return null;
        }
    }

    /// <summary>Seconds per epoch of three configurations, measured one after the other in this process.</summary>
    public static int Benchmark(TrainingRunner runner, TrainerOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        var epochs = options.BenchmarkEpochs;
        var configurations = new (string Name, TrainingConfig Config)[]
        {
            ("reference", TrainingConfig.Reference with { Epochs = epochs }),
            ("reference, length-grouped batches", TrainingConfig.Reference with { Epochs = epochs, Batching = Batching.LengthGrouped }),
            ("default", new TrainingConfig { Epochs = epochs, EarlyStoppingPatience = 0 }),
        };
        var (split, _) = runner.LoadSplit(options.DataDirectory, configurations[0].Config);
        var secondsPerEpoch = new List<double>();
        foreach (var (name, config) in configurations)
        {
            var trained = ModelTrainer.Train(split, config, cancellationToken: cancellationToken);
            trained.Model.Dispose();
            var seconds = trained.History[^1].Elapsed.TotalSeconds / trained.History.Count;
            secondsPerEpoch.Add(seconds);
            logger.LogInformation("{Name,-36} {Seconds,6:F3} s/epoch ({Ratio:F2} × reference)", name, seconds, seconds / secondsPerEpoch[0]);
        }
        return 0;
    }

    /// <summary>Trains the candidates over the seeds on the split the configuration names, and prints the table.</summary>
    public static int Compare(TrainingRunner runner, TrainerOptions options, TrainingConfig config, ILogger logger, CancellationToken cancellationToken)
    {
        var candidates = Comparison.Parse(options.Candidates);
        var (split, _) = runner.LoadSplit(options.DataDirectory, config);
        var table = Comparison.Run(split, candidates, options.Seeds, options.WithTest, line => logger.LogInformation("{Run}", line), cancellationToken);
        Console.WriteLine();
        Console.Write(table);
        return 0;
    }

    private sealed class EpochLogger(ILogger logger) : IProgress<EpochReport>
    {
        public void Report(EpochReport r) => logger.LogInformation(
            "Epoch {Epoch,3}/{Epochs}  train loss {TrainingLoss:F4} acc {TrainingAccuracy:F4}  validation loss {ValidationLoss:F4} acc {ValidationAccuracy:F4}  lr {LearningRate:G3}  {Elapsed:F1}s",
            r.Epoch, r.Epochs, r.TrainingLoss, r.TrainingAccuracy, r.ValidationLoss, r.ValidationAccuracy, r.LearningRate, r.Elapsed.TotalSeconds);
    }
}
