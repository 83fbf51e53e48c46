using System.Diagnostics;
using System.Globalization;
using System.Text;
using RnnService.Core.Data;
using RnnService.Core.Model;
using RnnService.Core.Storage;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnService.Core.Training;

/// <summary>Progress after one epoch. The training loss is the (class-weighted) objective; the validation loss is plain NLL.</summary>
public sealed record EpochReport(
    int Epoch,
    int Epochs,
    double TrainingLoss,
    double TrainingAccuracy,
    double ValidationLoss,
    double ValidationAccuracy,
    double LearningRate,
    TimeSpan Elapsed)
{
    /// <summary>Validation macro-F1 after the epoch; null in manifests written before it was recorded.</summary>
    public double? ValidationMacroF1 { get; init; }
}

/// <summary>A trained model with what it needs to encode names and name its outputs.</summary>
public sealed record TrainedModel(
    CharRnn Model,
    Vocabulary Vocabulary,
    IReadOnlyList<string> Languages,
    IReadOnlyList<EpochReport> History,
    int BestEpoch,
    TrainingPrior Prior);

/// <summary>
/// Minibatch training with Adam: shuffled, length-grouped batches, gradient clipping, a learning-rate schedule and
/// early stopping on validation loss that keeps the best weights.
/// </summary>
public static class ModelTrainer
{
    public static TrainedModel Train(
        DatasetSplit split, TrainingConfig config, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Members == 1) return TrainOne(split, config, progress, cancellationToken);
        return TrainEnsemble(split, config, progress, cancellationToken);
    }

    /// <summary>
    /// Trains <see cref="TrainingConfig.Members"/> RNNs of HiddenSize / Members units, each with its own seed, one after
    /// the other, and merges them into one RNN answering their mean logits (<see cref="CharRnn.Ensemble"/>). Epochs are
    /// reported as one run: member k's epoch e is epoch (k − 1) · Epochs + e of Members · Epochs.
    /// </summary>
    private static TrainedModel TrainEnsemble(DatasetSplit split, TrainingConfig config, IProgress<EpochReport>? progress, CancellationToken cancellationToken)
    {
        var memberConfig = config with { HiddenSize = config.HiddenSize / config.Members, Members = 1 };
        var members = new List<TrainedModel>();
        var history = new List<EpochReport>();
        try
        {
            for (var k = 0; k < config.Members; k++)
            {
                var (offset, elapsed) = (k * config.Epochs, history.LastOrDefault()?.Elapsed ?? TimeSpan.Zero);
                EpochReport AsOneRun(EpochReport report) =>
                    report with { Epoch = offset + report.Epoch, Epochs = config.Members * config.Epochs, Elapsed = elapsed + report.Elapsed };
                var member = TrainOne(
                    split, memberConfig with { Seed = MemberSeed(config.Seed, k) }, new Progress(report => progress?.Report(AsOneRun(report))), cancellationToken);
                members.Add(member);
                history.AddRange(member.History.Select(AsOneRun));
            }
            var merged = CharRnn.Ensemble(members.Select(member => member.Model).ToArray());
            var last = members[^1];
            return new TrainedModel(merged, last.Vocabulary, last.Languages, history, (config.Members - 1) * config.Epochs + last.BestEpoch, last.Prior);
        }
        finally
        {
            foreach (var member in members) member.Model.Dispose();
        }
    }

    /// <summary>Member k's seed: the run's seed for the first, distinct for the others and for other runs' members.</summary>
    internal static int MemberSeed(int seed, int member) => member == 0 ? seed : unchecked(seed + 100_003 * member);

    private static TrainedModel TrainOne(
        DatasetSplit split, TrainingConfig config, IProgress<EpochReport>? progress, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var vocabulary = Vocabulary.FromNames(split.Training.Select(example => example.Name));
        var architecture = new RnnArchitecture(
            config.HiddenSize, vocabulary.Size, split.Languages.Count, config.OutputBias, config.Precision, config.BoundaryMarks, config.NgramBuckets, config.Bidirectional);
        var model = new CharRnn(architecture, config.Initialization, new Generator((ulong)config.Seed));
        var names = TrainingNames(split, config);
        var prior = Prior(split, names, config.ClassWeightExponent);
        var weights = split.Languages.Select(language => prior.ClassWeights[language]).ToArray();
        using var classWeights = tensor(weights, architecture.DType);
        using var optimizer = new AdamW(
            model.named_parameters().Select(p => (p.parameter, config.DecayOutputBias || p.name != "c")), config.LearningRate, config.WeightDecay);
        var examples = names.Select(example => new Example(vocabulary.Encode(example.Name), example.Language)).ToArray();
        var random = new Random(config.Seed);
        random.Shuffle(examples);

        var history = new List<EpochReport>();
        Dictionary<string, Tensor>? best = null;
        try
        {
            for (var epoch = 1; epoch <= config.Epochs; epoch++)
            {
                var learningRate = LearningRateAt(config, epoch);
                optimizer.LearningRate = learningRate;
                if (config.ShuffleEachEpoch && epoch > 1) random.Shuffle(examples);

                var (loss, accuracy) = TrainEpoch(model, optimizer, classWeights, examples, config, random, cancellationToken);
                var validation = Evaluator.Evaluate(model, vocabulary, split.Languages, split.Validation);
                var report = new EpochReport(epoch, config.Epochs, loss, accuracy, validation.Loss, validation.Accuracy, learningRate, stopwatch.Elapsed)
                {
                    ValidationMacroF1 = validation.MacroF1,
                };
                history.Add(report);
                progress?.Report(report);

                var bestEpoch = BestEpoch(history, config.Checkpoint);
                if (bestEpoch == epoch)
                {
                    DisposeAll(best);
                    best = Snapshot(model);
                }
                else if (config.EarlyStoppingPatience > 0 && epoch - bestEpoch >= config.EarlyStoppingPatience)
                {
                    break;
                }
            }
            model.load_state_dict(best!);
            return new TrainedModel(model, vocabulary, split.Languages, history, BestEpoch(history, config.Checkpoint), prior);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        finally
        {
            DisposeAll(best);
        }
    }

    /// <summary>One pass over the training examples; returns the mean training loss and accuracy.</summary>
    private static (double Loss, double Accuracy) TrainEpoch(
        CharRnn model, AdamW optimizer, Tensor classWeights, Example[] examples, TrainingConfig config, Random random, CancellationToken cancellationToken)
    {
        var padTo = config.Batching == Batching.GlobalPadding ? examples.Max(example => example.Chars.Length) : 0;
        double lossSum = 0;
        long correct = 0;
        foreach (var batch in Batches(examples, config, random))
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var chars = LeftPadding.Pack(batch.Select(example => WithUnknowns(example.Chars, config.UnknownCharacterRate, random)).ToArray(), model.Architecture, padTo);
            var labels = tensor(batch.Select(example => (long)example.Language).ToArray());

            optimizer.ZeroGrad();
            var logits = model.forward(chars);
            var loss = nn.functional.cross_entropy(logits, labels, classWeights, label_smoothing: config.LabelSmoothing);
            loss.backward();
            if (config.GradientClipNorm > 0) nn.utils.clip_grad_norm_(model.parameters(), config.GradientClipNorm);
            optimizer.Step();

            // item<T> reads the tensor's memory; ToDouble()/ToInt64() go through a temporary Scalar that the finalizer may
            // free while native code still converts it (see AdamW), which aborts the process under many collections.
            lossSum += loss.to(ScalarType.Float64).item<double>() * batch.Length;
            correct += logits.argmax(1).eq(labels).sum().item<long>();
        }
        return (lossSum / examples.Length, (double)correct / examples.Length);
    }

    /// <summary>
    /// The names a configuration trains on: the training part, the supplementary names if it takes them, and their
    /// accent-stripped copies if it asks for them.
    /// </summary>
    public static IReadOnlyList<LabeledName> TrainingNames(DatasetSplit split, TrainingConfig config)
    {
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(config);
        var trained = split.TrainingNames(config.SupplementaryNames);
        if (!config.AccentStrippedCopies) return trained;
        var names = new HashSet<LabeledName>(trained);
        var copies = trained.Select(example => example with { Name = WithoutAccents(example.Name) }).Where(names.Add).ToArray();
        return [.. trained, .. copies];
    }

    /// <summary>
    /// The prior a model trained on <paramref name="names"/> with class-weight <paramref name="exponent"/> fits its
    /// scores to, and the data's mix of languages: the split's training part, whatever else was trained on.
    /// </summary>
    public static TrainingPrior Prior(DatasetSplit split, IReadOnlyList<LabeledName> names, double exponent)
    {
        ArgumentNullException.ThrowIfNull(split);
        var trainedCounts = Counts(names, split.Languages.Count);
        return TrainingPrior.From(split.Languages, Counts(split.Training, split.Languages.Count), trainedCounts, ClassWeights(trainedCounts, exponent));
    }

    private static int[] Counts(IReadOnlyList<LabeledName> names, int languageCount)
    {
        var counts = new int[languageCount];
        foreach (var example in names) counts[example.Language]++;
        return counts;
    }

    /// <summary>The name with combining marks removed after canonical decomposition (é → e, ł stays: it has no decomposition).</summary>
    internal static string WithoutAccents(string name)
    {
        var decomposed = name.Normalize(NormalizationForm.FormD);
        var kept = decomposed.Where(ch => CharUnicodeInfo.GetUnicodeCategory(ch) != UnicodeCategory.NonSpacingMark).ToArray();
        return new string(kept).Normalize(NormalizationForm.FormC);
    }

    /// <summary>Weight of language k in the loss: (count_k / mean count)^-exponent, so the average example weighs about 1.</summary>
    public static double[] ClassWeights(IReadOnlyList<int> counts, double exponent)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var mean = counts.Average();
        return counts.Select(count => count == 0 ? 0 : Math.Pow(count / mean, -exponent)).ToArray();
    }

    /// <summary>The first epoch with the best checkpoint score.</summary>
    private static int BestEpoch(List<EpochReport> history, CheckpointMetric metric) => metric == CheckpointMetric.ValidationMacroF1
        ? history.MaxBy(r => r.ValidationMacroF1)!.Epoch
        : history.MinBy(r => r.ValidationLoss)!.Epoch;

    /// <summary>
    /// Warm-up epochs rise linearly to the peak rate; then the schedule runs over the remaining epochs. Warm-up takes at
    /// most a quarter of the epochs, so a short run still trains at its peak rate.
    /// </summary>
    private static double LearningRateAt(TrainingConfig config, int epoch)
    {
        var warmup = Math.Min(config.WarmupEpochs, config.Epochs / 4);
        if (epoch <= warmup) return config.LearningRate * epoch / (warmup + 1);
        var (step, steps) = (epoch - 1 - warmup, config.Epochs - warmup);
        return config.Schedule switch
        {
            LearningRateSchedule.Cosine => config.LearningRate * 0.5 * (1 + Math.Cos(Math.PI * step / steps)),
            _ => config.LearningRate,
        };
    }

    /// <summary>
    /// Batches in the examples' current (shuffled) order. Length-grouped batching sorts each window of 16 batches by
    /// length before cutting it, then shuffles the batch order: batches pad little yet still mix languages.
    /// </summary>
    private static IEnumerable<Example[]> Batches(Example[] examples, TrainingConfig config, Random random)
    {
        if (config.Batching == Batching.GlobalPadding) return examples.Chunk(config.BatchSize);
        var batches = examples
            .Chunk(config.BatchSize * 16)
            .SelectMany(window => window.OrderBy(example => example.Chars.Length).Chunk(config.BatchSize))
            .ToArray();
        random.Shuffle(batches);
        return batches;
    }

    private static int[] WithUnknowns(int[] chars, double rate, Random random)
    {
        if (rate == 0) return chars;
        var copy = (int[])chars.Clone();
        for (var i = 0; i < copy.Length; i++)
        {
            if (random.NextDouble() < rate) copy[i] = Vocabulary.Unknown;
        }
        return copy;
    }

    private readonly record struct Example(int[] Chars, int Language);

    private sealed class Progress(Action<EpochReport> report) : IProgress<EpochReport>
    {
        public void Report(EpochReport value) => report(value);
    }

    private static Dictionary<string, Tensor> Snapshot(CharRnn model) =>
        model.state_dict().ToDictionary(entry => entry.Key, entry => entry.Value.detach().clone());

    private static void DisposeAll(Dictionary<string, Tensor>? tensors)
    {
        foreach (var tensor in tensors?.Values ?? Enumerable.Empty<Tensor>()) tensor.Dispose();
    }
}
