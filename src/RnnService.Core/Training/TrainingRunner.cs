using Microsoft.Extensions.Logging;
using RnnService.Core.Data;
using RnnService.Core.Model;
using RnnService.Core.Storage;

namespace RnnService.Core.Training;

/// <summary>
/// One complete training run: load and split the names, train, measure on the test split, publish to the store.
/// Shared by the command-line trainer and the web API's training worker.
/// </summary>
public sealed class TrainingRunner(ModelStore store, ILogger<TrainingRunner> logger)
{
    /// <summary>Trains on <paramref name="dataDirectory"/> and publishes the result; returns the new version's manifest.</summary>
    public ModelManifest TrainAndPublish(
        string dataDirectory, TrainingConfig config, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default) =>
        TrainAndPublish(dataDirectory, config, trainingJob: null, progress, cancellationToken);

    /// <summary>
    /// Trains and publishes as <paramref name="trainingJob"/> (when set): its manifest names the job, so the version
    /// can be matched with it even if the worker dies before recording it on the job.
    /// </summary>
    public ModelManifest TrainAndPublish(
        string dataDirectory, TrainingConfig config, Guid? trainingJob, IProgress<EpochReport>? progress, CancellationToken cancellationToken)
    {
        var (split, dataSummary) = LoadSplit(dataDirectory, config);
        var epochs = new EpochStages(progress);
        var trained = ModelTrainer.Train(split, config, epochs, cancellationToken);
        var (validationLogits, testLogits) = (Evaluator.Logits(trained.Model, trained.Vocabulary, split.Validation), Evaluator.Logits(trained.Model, trained.Vocabulary, split.Test));
        var prior = trained.Prior;
        var calibration = Calibration.Fit(
            split.Languages,
            validationLogits,
            split.Validation.Select(example => example.Language).ToArray(),
            testLogits,
            split.Test.Select(example => example.Language).ToArray(),
            prior.NamedAdjustments(split.Languages));
        // The answers as served with the data prior: raw logits answer the prior the loss fitted, which class weights and
        // supplementary names move away from the data's mix.
        var dataAdjustment = prior.DataAdjustment(split.Languages);
        var validation = Evaluator.ScoreAsServed(split.Languages, split.Validation, validationLogits, calibration.Temperature, dataAdjustment);
        var test = Evaluator.ScoreAsServed(split.Languages, split.Test, testLogits, calibration.Temperature, dataAdjustment);
        using var classifier = new NameClassifier(trained.Model, trained.Vocabulary, trained.Languages, calibration.Temperature);
        logger.LogInformation(
            "Trained {Epochs} epochs (best {BestEpoch}); validation accuracy {ValidationAccuracy:F4}, macro-F1 {ValidationMacroF1:F4}; test accuracy {Accuracy:F4}, macro-F1 {MacroF1:F4}, balanced accuracy {BalancedAccuracy:F4}, top-3 {TopThree:F4}, loss {Loss:F4}",
            trained.History.Count, trained.BestEpoch, validation.Accuracy, validation.MacroF1, test.Accuracy, test.MacroF1, test.BalancedAccuracy, test.TopThreeAccuracy, test.Loss);
        logger.LogInformation(
            "Calibration: temperature {Temperature:F3}; test NLL {NllBefore:F4} → {NllAfter:F4}, ECE {EceBefore:F4} → {EceAfter:F4}; prediction sets {Sets}",
            calibration.Temperature, calibration.TestNllBefore, calibration.TestNllAfter, calibration.TestEceBefore, calibration.TestEceAfter,
            string.Join(", ", calibration.PredictionSets.Select(level => $"{level.Coverage:P0} → coverage {level.TestCoverage:P1}, size {level.TestAverageSize:F2}")));
        foreach (var level in calibration.PredictionSets)
        {
            var own = level.Languages!.Where(language => !language.Pooled).ToArray();
            var lowest = own.MinBy(language => language.TestCoverage);
            logger.LogInformation(
                "{Coverage:P0} sets: {Own} languages with a threshold of their own, lowest test coverage {Language} {LowestCoverage:P1}; pooled for {Pooled}",
                level.Coverage, own.Length, lowest?.Language, lowest?.TestCoverage,
                string.Join(", ", level.Languages!.Where(language => language.Pooled).Select(language => language.Language)));
        }
        foreach (var answered in calibration.Priors!)
        {
            logger.LogInformation(
                "Prior {Prior}: test accuracy {Accuracy:F4}, macro-F1 {MacroF1:F4}, balanced accuracy {BalancedAccuracy:F4}, top-3 {TopThree:F4}; test split reweighted to it: ECE {Ece:F4} (a calibrated model: {EceIfCalibrated:F4}); prediction sets {Sets}",
                answered.Prior, answered.TestAnswers!.Accuracy, answered.TestAnswers.MacroF1, answered.TestAnswers.BalancedAccuracy, answered.TestAnswers.TopThreeAccuracy,
                answered.TestEce, answered.TestEceIfCalibrated,
                string.Join(", ", answered.PredictionSets.Select(level => $"{level.Coverage:P0} → coverage {level.TestCoverage:P1}, size {level.TestAverageSize:F2}")));
        }

        var manifest = new ModelManifest
        {
            CreatedAt = DateTimeOffset.UtcNow,
            TrainingJob = trainingJob,
            Architecture = trained.Model.Architecture,
            Normalization = NameNormalizer.Scheme,
            Vocabulary = new string(trained.Vocabulary.Characters.ToArray()),
            Languages = trained.Languages,
            Training = config,
            Data = dataSummary,
            Metrics = new ModelMetrics(test, validation, trained.BestEpoch, trained.History) { AsServed = true },
            Calibration = calibration,
            Prior = prior,
        };
        cancellationToken.ThrowIfCancellationRequested();
        return store.Publish(classifier, manifest, cancellationToken);
    }

    /// <summary>
    /// The promotion rule (<see cref="Promotion"/>) for a version just published from <paramref name="dataDirectory"/>
    /// against the one being served, like with like: when the two were validated on different names (another data set
    /// or split), or one recorded raw scores and the other served ones, the served model is scored as it serves on the
    /// candidate's validation names; when that cannot be done (other languages, a model that no longer loads, data
    /// changed since), the candidate is not promoted automatically.
    /// </summary>
    public PromotionDecision DecidePromotion(ModelManifest candidate, ModelManifest? serving, string dataDirectory, double tolerance)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        var sameNames = serving is not null && Promotion.SameValidationNames(candidate, serving);
        if (serving is null || (sameNames && serving.Metrics.AsServed == candidate.Metrics.AsServed))
        {
            return Promotion.Decide(candidate, serving, tolerance, serving?.Metrics.Validation.MacroF1, "both measured on the same validation names");
        }
        var why = sameNames ? "recorded the scores of its raw logits, not of its answers"
            : candidate.Data.Fingerprint != serving.Data.Fingerprint ? "was trained on other data" : "was split differently";
        if (!candidate.Languages.SequenceEqual(serving.Languages, StringComparer.Ordinal))
        {
            return Promotion.Decide(candidate, serving, tolerance, null, $"version {serving.Version} {why} and answers other languages, so the two cannot be compared");
        }
        try
        {
            var (split, summary) = LoadSplit(dataDirectory, candidate.Training);
            if (summary.Fingerprint != candidate.Data.Fingerprint)
            {
                return Promotion.Decide(candidate, serving, tolerance, null, "the data changed since training, so the two cannot be compared on the same names");
            }
            using var served = store.Load(serving.Version);
            var logits = Evaluator.Logits(served.Classifier.Model, served.Classifier.Vocabulary, split.Validation);
            var score = Evaluator.ScoreAsServed(split.Languages, split.Validation, logits, served.Predictor.DataPrior.Temperature, served.Predictor.DataPrior.Adjustment).MacroF1;
            return Promotion.Decide(
                candidate, serving, tolerance, score,
                $"version {serving.Version} {why}, so its answers were scored on this version's validation names"
                + (sameNames ? "" : " (some of which it may have trained on, which only favours it)"));
        }
        catch (ModelLoadException exception)
        {
            return Promotion.Decide(candidate, serving, tolerance, null, $"version {serving.Version} {why} and cannot be loaded to compare ({exception.Message})");
        }
    }

    /// <summary>Loads the data set and splits it as <paramref name="config"/> says, logging the sizes per language.</summary>
    public (DatasetSplit Split, DataSummary Summary) LoadSplit(string dataDirectory, TrainingConfig config)
    {
        var dataset = NamesDataset.Load(dataDirectory);
        var split = DatasetSplit.Create(dataset, config.ValidationFraction, config.TestFraction, config.SplitSeed);
        var sizes = split.SizesPerLanguage();
        logger.LogInformation(
            "Loaded {Examples} distinct (name, language) examples from {Directory}: {Training} training, {Validation} validation, {Test} test",
            dataset.Examples.Count, dataDirectory, split.Training.Count, split.Validation.Count, split.Test.Count);
        logger.LogInformation("Examples per language (training/validation/test): {Sizes}",
            string.Join(", ", sizes.Select(size => $"{size.Language} {size.Training}/{size.Validation}/{size.Test}")));
        var summary = new DataSummary(dataset.Fingerprint, dataset.Examples.Count, config.SplitSeed, sizes);
        if (!config.SupplementaryNames || split.Supplement.Count == 0) return (split, summary);

        var supplement = split.Languages
            .Select((language, k) => (language, Count: split.Supplement.Count(example => example.Language == k)))
            .Where(pair => pair.Count > 0)
            .ToDictionary(pair => pair.language, pair => pair.Count, StringComparer.Ordinal);
        logger.LogInformation(
            "Also training on {Count} supplementary names (none of them a validation or test name): {Sizes}",
            split.Supplement.Count, string.Join(", ", supplement.Select(pair => $"{pair.Key} {pair.Value}")));
        return (split, summary with { Supplement = new SupplementSummary(dataset.SupplementFingerprint!, supplement) });
    }

    /// <summary>Passes progress on, and marks each finished epoch as a stage a crash test can stop at.</summary>
    private sealed class EpochStages(IProgress<EpochReport>? inner) : IProgress<EpochReport>
    {
        public void Report(EpochReport value)
        {
            FaultInjection.Reached($"epoch-{value.Epoch}");
            inner?.Report(value);
        }
    }
}
