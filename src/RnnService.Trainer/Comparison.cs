using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Configuration;
using RnnService.Baseline;
using RnnService.Core.Data;
using RnnService.Core.Storage;
using RnnService.Core.Training;

namespace RnnService.Trainer;

/// <summary>
/// Trains named configurations (RNNs and the n-gram baseline) over several seeds on one split and tabulates their
/// scores on one of its parts: mean ± sd over seeds, and a bootstrap 95 % interval of that mean over the examples.
/// </summary>
internal static class Comparison
{
    private const int BootstrapSamples = 1000;

    /// <summary>
    /// Candidates named on the command line: a preset (<c>reference</c>, <c>previous</c>, <c>default</c>,
    /// <c>ngram</c>, <c>ngram-balanced</c>) or <c>name: Setting=value, Setting=value</c>, the default with those settings
    /// (an RNN's <see cref="TrainingConfig"/>, or <see cref="NgramBaselineOptions"/> when the name starts with "ngram").
    /// </summary>
    public static IReadOnlyList<Candidate> Parse(string candidates) =>
        candidates.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseOne).ToArray();

    private static Candidate ParseOne(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return text switch
            {
                "reference" => Rnn(text, TrainingConfig.Reference),
                "previous" => Rnn(text, TrainingConfig.FirstRelease),
                "default" => Rnn(text, new TrainingConfig()),
                "ngram" => Ngram(text, new NgramBaselineOptions()),
                "ngram-balanced" => Ngram(text, new NgramBaselineOptions(ClassWeightExponent: 1)),
                _ => throw new ArgumentException($"Unknown candidate '{text}': name a preset or write 'name: Setting=value, ...'."),
            };
        }
        var settings = text[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(pair => pair.Split('=', 2, StringSplitOptions.TrimEntries))
            .Select(pair => KeyValuePair.Create(pair[0], pair.Length == 2 ? pair[1] : throw new ArgumentException($"'{pair[0]}' in '{text}' needs '=value'.")))
            .GroupBy(setting => setting.Key, StringComparer.OrdinalIgnoreCase)
            .Select(repeats => repeats.Last());                                             // a later setting overrides an earlier one
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings!).Build();
        var name = text[..colon].Trim();
        if (name.StartsWith("ngram", StringComparison.Ordinal)) return Ngram(name, configuration.Get<NgramBaselineOptions>() ?? new NgramBaselineOptions());
        var config = new TrainingConfig();
        configuration.Bind(config);
        var errors = config.Validate();
        if (errors.Count > 0) throw new ArgumentException($"{text}: {string.Join("; ", errors.Select(error => $"{error.Setting} {error.Message}"))}");
        return Rnn(name, config);
    }

    private static Candidate Rnn(string name, TrainingConfig config) => new(name, (split, seed, parts) =>
    {
        var trained = ModelTrainer.Train(split, config with { Seed = seed });
        using var model = trained.Model;
        return (parts.Select(part => Evaluator.Logits(model, trained.Vocabulary, part)).ToArray(), trained.Prior);
    });

    /// <summary>L-BFGS on a convex loss lands on the same optimum whatever the seed, so one run stands for all.</summary>
    private static Candidate Ngram(string name, NgramBaselineOptions options) => new(name, (split, seed, parts) =>
    {
        var baseline = NgramBaseline.Train(split, options with { Seed = seed });
        return (parts.Select(part => baseline.LogProbabilities(part.Select(example => example.Name).ToArray())).ToArray(), baseline.Prior);
    }, Deterministic: true);

    /// <summary>
    /// Runs every candidate for seeds 1..<paramref name="seeds"/> and returns Markdown tables: the validation split's,
    /// for choosing, and with <paramref name="withTest"/> the test split's from the same runs, for the final report.
    /// </summary>
    public static string Run(DatasetSplit split, IReadOnlyList<Candidate> candidates, int seeds, bool withTest, Action<string> log, CancellationToken cancellationToken)
    {
        (string Name, IReadOnlyList<LabeledName> Examples)[] parts = withTest ? [("validation", split.Validation), ("test", split.Test)] : [("validation", split.Validation)];
        var validationLabels = split.Validation.Select(example => example.Language).ToArray();
        var rows = parts.Select(_ => new StringBuilder()).ToArray();
        foreach (var candidate in candidates)
        {
            var runs = parts.Select(_ => new List<RunScores>()).ToArray();
            for (var seed = 1; seed <= (candidate.Deterministic ? 1 : seeds); seed++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var stopwatch = Stopwatch.StartNew();
                var (scores, prior) = candidate.TrainAndScore(split, seed, parts.Select(part => part.Examples).ToArray());
                var seconds = stopwatch.Elapsed.TotalSeconds;
                // As served: each prior's adjustment to the prior the scores were fitted to (see LanguagePrior), after
                // dividing by its own temperature fitted on validation (see Calibration).
                var (dataAdjustment, uniformAdjustment) = (prior.DataAdjustment(split.Languages), prior.UniformAdjustment(split.Languages));
                var (dataTemperature, uniformTemperature) = (
                    Calibration.FitTemperature(scores[0], validationLabels, dataAdjustment),
                    Calibration.FitPriorTemperature(scores[0], validationLabels, uniformAdjustment, dataAdjustment));
                for (var p = 0; p < parts.Length; p++)
                {
                    var labels = parts[p].Examples.Select(example => example.Language).ToArray();
                    var data = Evaluator.AsServed(scores[p], dataTemperature, dataAdjustment);
                    var uniform = Evaluator.AsServed(scores[p], uniformTemperature, uniformAdjustment);
                    var run = new RunScores(
                        data.Select(ArgMax).ToArray(),
                        uniform.Select(ArgMax).ToArray(),
                        data.Select((row, i) => EvaluationResult.IsInTopK(row, labels[i])).ToArray(),
                        seconds);
                    runs[p].Add(run);
                    var m = Measure(split.Languages, labels, run, Enumerable.Range(0, labels.Length).ToArray());
                    log(string.Create(CultureInfo.InvariantCulture,
                        $"{candidate.Name} seed {seed} {parts[p].Name}: accuracy {m[0]:F4}, macro-F1 {m[1]:F4}, balanced {m[2]:F4}, top-3 {m[3]:F4}, balanced uniform {m[4]:F4}, macro-F1 uniform {m[5]:F4}, {seconds:F1} s"));
                }
            }
            for (var p = 0; p < parts.Length; p++)
            {
                var row = Row(candidate.Deterministic ? candidate.Name + " (deterministic: one run)" : candidate.Name, split.Languages, parts[p].Examples.Select(example => example.Language).ToArray(), runs[p]);
                rows[p].Append(row);
                log($"{parts[p].Name} row: {row.TrimEnd()}");     // kept in the log as each candidate finishes
            }
        }
        var tables = new StringBuilder();
        for (var p = 0; p < parts.Length; p++)
        {
            tables.Append(CultureInfo.InvariantCulture,
                $"Scores on the {parts[p].Name} split ({parts[p].Examples.Count} names) as served (prior data unless the column says uniform), mean ± sd over {seeds} seeds [bootstrap 95 % interval of the mean]\n\n");
            tables.Append("| configuration | accuracy | macro-F1 | balanced accuracy | top-3 | balanced accuracy, uniform prior | macro-F1, uniform prior | seconds (train + score) |\n");
            tables.Append("|---|---|---|---|---|---|---|---|\n");
            tables.Append(rows[p]).Append('\n');
        }
        return tables.ToString();
    }

    /// <summary>Accuracy, macro-F1, balanced accuracy, top-3, balanced accuracy and macro-F1 under a uniform prior, of one run on the examples at <paramref name="indices"/>.</summary>
    private static double[] Measure(IReadOnlyList<string> languages, int[] labels, RunScores run, int[] indices)
    {
        var actual = indices.Select(i => labels[i]).ToArray();
        var plain = EvaluationResult.FromPredictions(languages, actual, indices.Select(i => run.Predicted[i]).ToArray(), 0);
        var uniform = EvaluationResult.FromPredictions(languages, actual, indices.Select(i => run.UniformPredicted[i]).ToArray(), 0);
        var topThree = indices.Count(i => run.InTopThree[i]) / (double)indices.Length;
        return [plain.Accuracy, plain.MacroF1, plain.BalancedAccuracy!.Value, topThree, uniform.BalancedAccuracy!.Value, uniform.MacroF1];
    }

    /// <summary>One table row: per measure, mean ± sd over the seeds and the bootstrap interval of the mean (the same resamples for every seed).</summary>
    private static string Row(string name, IReadOnlyList<string> languages, int[] labels, List<RunScores> runs)
    {
        var all = Enumerable.Range(0, labels.Length).ToArray();
        var perSeed = runs.Select(run => Measure(languages, labels, run, all)).ToArray();
        var random = new Random(12345);
        var bootstrap = Enumerable.Range(0, BootstrapSamples).Select(_ =>
        {
            var sample = all.Select(_ => random.Next(labels.Length)).ToArray();
            var measures = runs.Select(run => Measure(languages, labels, run, sample)).ToArray();
            return Enumerable.Range(0, measures[0].Length).Select(m => measures.Average(seed => seed[m])).ToArray();
        }).ToArray();
        var cells = Enumerable.Range(0, perSeed[0].Length).Select(m =>
        {
            var values = perSeed.Select(seed => seed[m]).ToArray();
            var means = bootstrap.Select(sample => sample[m]).Order().ToArray();
            return string.Create(CultureInfo.InvariantCulture,
                $"{values.Average():F3} ± {StandardDeviation(values):F3} [{means[(int)(0.025 * BootstrapSamples)]:F3}, {means[(int)(0.975 * BootstrapSamples) - 1]:F3}]");
        });
        return string.Create(CultureInfo.InvariantCulture, $"| {name} | {string.Join(" | ", cells)} | {runs.Average(run => run.Seconds):F0} |\n");
    }

    private static int ArgMax(double[] row) => Array.IndexOf(row, row.Max());

    private static double StandardDeviation(double[] values)
    {
        if (values.Length < 2) return 0;
        var mean = values.Average();
        return Math.Sqrt(values.Sum(value => (value - mean) * (value - mean)) / (values.Length - 1));
    }

    private sealed record RunScores(int[] Predicted, int[] UniformPredicted, bool[] InTopThree, double Seconds);
}

/// <summary>A named way to train a scorer: for a split and a seed, trains on its training part and scores each given part (logits or log-probabilities).</summary>
/// <remarks>It returns the scores with the prior they were fitted to (its training names and class weights).</remarks>
internal sealed record Candidate(
    string Name, Func<DatasetSplit, int, IReadOnlyList<IReadOnlyList<LabeledName>>, (double[][][] Scores, TrainingPrior Prior)> TrainAndScore, bool Deterministic = false);
