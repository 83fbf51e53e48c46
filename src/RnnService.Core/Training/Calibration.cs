namespace RnnService.Core.Training;

/// <summary>Test-split examples whose top probability fell in (Lower, Upper]: how confident the model was, how often right.</summary>
public sealed record ReliabilityBin(double Lower, double Upper, int Count, double Confidence, double Accuracy);

/// <summary>
/// A split-conformal prediction-set level: the probability thresholds fitted on validation, and what they achieved on
/// test (data prior). Format 1 has one <see cref="Threshold"/> for every language; format 2 has one per language in
/// <see cref="Languages"/> (class-conditional), and <see cref="Threshold"/> is the pooled one that stands in for
/// languages with too few validation names.
/// </summary>
public sealed record PredictionSetLevel(
    double Coverage, double Threshold, double TestCoverage, double TestAverageSize, IReadOnlyList<LanguageThreshold>? Languages = null);

/// <summary>One language's prediction-set threshold at one coverage level, and its coverage on the test split.</summary>
/// <param name="Threshold">The language joins the set when its data-prior probability reaches this.</param>
/// <param name="ValidationNames">Validation names of this language the threshold was fitted on.</param>
/// <param name="Pooled">True when they were too few for a threshold of its own, so the pooled threshold stands in and the coverage is not guaranteed.</param>
/// <param name="TestCoverage">Share of this language's test names whose set held it (data prior).</param>
public sealed record LanguageThreshold(string Language, double Threshold, int ValidationNames, bool Pooled, double TestCoverage, int TestNames);

/// <summary>How far a model's probabilities can be trusted: the fitted temperature and its effect, measured on the test split.</summary>
public sealed record CalibrationReport(
    double Temperature,
    double TestNllBefore,
    double TestNllAfter,
    double TestEceBefore,
    double TestEceAfter,
    IReadOnlyList<ReliabilityBin> TestReliability,
    IReadOnlyList<PredictionSetLevel> PredictionSets);

/// <summary>
/// Post-hoc calibration from logits: a temperature T fitted on validation (softmax(logits / T) is served everywhere),
/// expected calibration error, and split-conformal prediction sets (every language whose probability reaches a threshold
/// fitted on validation for the wanted coverage).
/// </summary>
public static class Calibration
{
    /// <summary>Coverage levels a request may ask prediction sets for; the first is not the default, 0.9 is.</summary>
    public static readonly double[] CoverageLevels = [0.8, 0.9, 0.95];

    public const int ReliabilityBins = 15;

    /// <summary>Fits the temperature and the prediction-set thresholds on validation, and reports their effect on test.</summary>
    public static CalibrationReport Fit(
        IReadOnlyList<double[]> validationLogits, IReadOnlyList<int> validationLabels, IReadOnlyList<double[]> testLogits, IReadOnlyList<int> testLabels)
    {
        var temperature = FitTemperature(validationLogits, validationLabels);
        var validation = validationLogits.Select(logits => Softmax(logits, temperature)).ToArray();
        var testBefore = testLogits.Select(logits => Softmax(logits, 1)).ToArray();
        var testAfter = testLogits.Select(logits => Softmax(logits, temperature)).ToArray();
        var reliability = Reliability(testAfter, testLabels);
        var levels = CoverageLevels.Select(coverage =>
        {
            var threshold = ConformalThreshold(validation, validationLabels, coverage);
            var sets = testAfter.Select(probabilities => PredictionSet(probabilities, threshold)).ToArray();
            var covered = sets.Where((set, i) => set.Contains(testLabels[i])).Count();
            return new PredictionSetLevel(coverage, threshold, Ratio(covered, sets.Length), sets.Length == 0 ? 0 : sets.Average(set => set.Length));
        }).ToArray();
        return new CalibrationReport(
            temperature,
            NegativeLogLikelihood(testLogits, testLabels, 1),
            NegativeLogLikelihood(testLogits, testLabels, temperature),
            ExpectedCalibrationError(Reliability(testBefore, testLabels)),
            ExpectedCalibrationError(reliability),
            reliability,
            levels);
    }

    /// <summary>softmax(logits / temperature), computed stably.</summary>
    public static double[] Softmax(IReadOnlyList<double> logits, double temperature)
    {
        var max = logits.Max();
        var exponentials = logits.Select(logit => Math.Exp((logit - max) / temperature)).ToArray();
        var sum = exponentials.Sum();
        return exponentials.Select(value => value / sum).ToArray();
    }

    public static double NegativeLogLikelihood(IReadOnlyList<double[]> logits, IReadOnlyList<int> labels, double temperature)
    {
        double total = 0;
        for (var i = 0; i < logits.Count; i++)
        {
            var scaled = logits[i].Select(logit => logit / temperature).ToArray();
            var max = scaled.Max();
            total += max + Math.Log(scaled.Sum(value => Math.Exp(value - max))) - scaled[labels[i]];
        }
        return logits.Count == 0 ? 0 : total / logits.Count;
    }

    /// <summary>
    /// The temperature minimising NLL. NLL is convex in 1/T, so a golden-section search over 1/T in [0.05, 20] finds it.
    /// </summary>
    public static double FitTemperature(IReadOnlyList<double[]> logits, IReadOnlyList<int> labels)
    {
        double NllAt(double inverse) => NegativeLogLikelihood(logits, labels, 1 / inverse);
        var phi = (Math.Sqrt(5) - 1) / 2;
        double low = 0.05, high = 20;
        while (high - low > 1e-4)
        {
            var (left, right) = (high - phi * (high - low), low + phi * (high - low));
            if (NllAt(left) < NllAt(right)) high = right;
            else low = left;
        }
        return 1 / ((low + high) / 2);
    }

    /// <summary>Equal-width bins of top probability over (0, 1], with mean confidence and accuracy in each.</summary>
    public static IReadOnlyList<ReliabilityBin> Reliability(IReadOnlyList<double[]> probabilities, IReadOnlyList<int> labels)
    {
        var (count, confidence, correct) = (new int[ReliabilityBins], new double[ReliabilityBins], new int[ReliabilityBins]);
        for (var i = 0; i < probabilities.Count; i++)
        {
            var top = probabilities[i].Max();
            var bin = Math.Clamp((int)Math.Ceiling(top * ReliabilityBins) - 1, 0, ReliabilityBins - 1);
            count[bin]++;
            confidence[bin] += top;
            if (Array.IndexOf(probabilities[i], top) == labels[i]) correct[bin]++;
        }
        return Enumerable.Range(0, ReliabilityBins).Select(bin => new ReliabilityBin(
            (double)bin / ReliabilityBins, (double)(bin + 1) / ReliabilityBins, count[bin],
            count[bin] == 0 ? 0 : confidence[bin] / count[bin], Ratio(correct[bin], count[bin]))).ToArray();
    }

    /// <summary>ECE: the count-weighted mean gap between confidence and accuracy over the bins.</summary>
    public static double ExpectedCalibrationError(IReadOnlyList<ReliabilityBin> bins)
    {
        var total = bins.Sum(bin => bin.Count);
        return total == 0 ? 0 : bins.Sum(bin => bin.Count * Math.Abs(bin.Accuracy - bin.Confidence)) / total;
    }

    /// <summary>
    /// The split-conformal probability threshold for <paramref name="coverage"/> (score 1 − p(true language), the "LAC"
    /// score): the k-th largest probability of the true language, k = ⌈(n+1)·coverage⌉. A new example's true language
    /// then has a probability at or above it with chance at least <paramref name="coverage"/>.
    /// </summary>
    public static double ConformalThreshold(IReadOnlyList<double[]> probabilities, IReadOnlyList<int> labels, double coverage)
    {
        var trueProbabilities = probabilities.Select((p, i) => p[labels[i]]).OrderDescending().ToArray();
        var rank = (int)Math.Ceiling((trueProbabilities.Length + 1) * coverage);
        return rank > trueProbabilities.Length || rank < 1 ? 0 : trueProbabilities[rank - 1];
    }

    /// <summary>
    /// The languages whose probability reaches the threshold, most probable first; never empty (the top language is
    /// always in it).
    /// </summary>
    public static int[] PredictionSet(double[] probabilities, double threshold)
    {
        var ranked = Rank(probabilities);
        return ranked[..PredictionSetSize(probabilities, ranked, threshold)];
    }

    /// <summary>How many of the <paramref name="ranked"/> languages (<see cref="Rank"/>) the prediction set holds.</summary>
    public static int PredictionSetSize(ReadOnlySpan<double> probabilities, ReadOnlySpan<int> ranked, double threshold)
    {
        var size = 1;
        while (size < ranked.Length && probabilities[ranked[size]] >= threshold) size++;
        return size;
    }

    /// <summary>Language indices from the most to the least probable; equal probabilities keep the lower index first.</summary>
    public static int[] Rank(double[] probabilities)
    {
        var ranked = new int[probabilities.Length];
        Rank(probabilities, ranked);
        return ranked;
    }

    /// <summary><see cref="Rank(double[])"/> into <paramref name="ranked"/>, allocating nothing.</summary>
    public static void Rank(ReadOnlySpan<double> probabilities, Span<int> ranked)
    {
        // Insertion sort: a handful of languages, stable, and no comparison delegate to allocate.
        for (var i = 0; i < ranked.Length; i++)
        {
            var j = i;
            for (; j > 0 && probabilities[ranked[j - 1]] < probabilities[i]; j--) ranked[j] = ranked[j - 1];
            ranked[j] = i;
        }
    }

    private static double Ratio(int part, int whole) => whole == 0 ? 0 : (double)part / whole;
}
