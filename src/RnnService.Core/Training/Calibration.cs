using RnnService.Core.Model;

namespace RnnService.Core.Training;

/// <summary>Test-split examples whose top probability fell in (Lower, Upper]: how confident the model was, how often right.</summary>
/// <param name="Weight">
/// The bin's share of the test split reweighted to a prior (importance weights), which the calibration error weighs
/// bins by; null when every example weighs alike (then <see cref="Count"/> does).
/// </param>
public sealed record ReliabilityBin(double Lower, double Upper, int Count, double Confidence, double Accuracy, double? Weight = null);

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
/// <param name="Confidence">
/// The chance, over the draw of the validation names, that the threshold holds this language's coverage at the level
/// or above (a training-conditional guarantee); null for a pooled threshold, and in manifests written before the
/// thresholds aimed for it (their thresholds held the level on average over draws only).
/// </param>
public sealed record LanguageThreshold(
    string Language, double Threshold, int ValidationNames, bool Pooled, double TestCoverage, int TestNames, double? Confidence = null);

/// <summary>How far a model's probabilities can be trusted: the fitted temperature and its effect, measured on the test split.</summary>
/// <param name="TestNllBefore">Test NLL of the raw logits (no temperature, no prior correction).</param>
/// <param name="TestNllAfter">Test NLL of the served data-prior probabilities.</param>
/// <param name="Priors">
/// Format 2: per prior a request may name ("data", "uniform"), the calibration error and prediction-set coverage on the
/// test split reweighted so that its languages follow that prior. Null in format 1.
/// </param>
public sealed record CalibrationReport(
    double Temperature,
    double TestNllBefore,
    double TestNllAfter,
    double TestEceBefore,
    double TestEceAfter,
    IReadOnlyList<ReliabilityBin> TestReliability,
    IReadOnlyList<PredictionSetLevel> PredictionSets,
    IReadOnlyList<PriorCalibration>? Priors = null);

/// <summary>
/// How well the answers under one prior hold on the test split reweighted to that prior: each test name weighs
/// q(language) / (its language's share of the test split), so under "uniform" every language counts equally.
/// </summary>
/// <param name="TestEce">Expected calibration error (15 bins) of the probabilities this prior answers, importance-weighted.</param>
/// <param name="TestEceIfCalibrated">
/// The ECE a perfectly calibrated model would still show on this reweighted split, from its size alone: the mean over
/// label draws from the answered probabilities themselves. Reweighting shrinks the effective number of test names
/// (rare languages weigh much more), so read <paramref name="TestEce"/> against this floor.
/// </param>
/// <param name="TestAnswers">
/// How the answers under this prior score on the test split as it is (not reweighted); null in manifests written
/// before it was recorded.
/// </param>
/// <param name="Temperature">
/// The temperature this prior answers with, fitted on validation names reweighted to the prior; null in manifests
/// written before priors had their own, which answer with the data prior's.
/// </param>
public sealed record PriorCalibration(
    string Prior,
    double TestEce,
    double TestEceIfCalibrated,
    IReadOnlyList<ReliabilityBin> TestReliability,
    IReadOnlyList<PriorCoverage> PredictionSets,
    PriorAnswers? TestAnswers = null,
    double? Temperature = null);

/// <summary>
/// Scores of the languages a prior answers first, as the service ranks them. Accuracy and top-3 are what a user with
/// the data's mix of names sees; balanced accuracy (mean recall per language) is the accuracy when every language is
/// asked about equally often.
/// </summary>
public sealed record PriorAnswers(double Accuracy, double MacroF1, double BalancedAccuracy, double TopThreeAccuracy);

/// <summary>One coverage level under one prior, on the reweighted test split.</summary>
/// <param name="TestCoverage">Weighted share of test names whose set held the true language.</param>
/// <param name="TestAverageSize">Weighted mean number of languages in a set.</param>
public sealed record PriorCoverage(double Coverage, double TestCoverage, double TestAverageSize);

/// <summary>
/// Post-hoc calibration from logits: a temperature T fitted on validation, expected calibration error, and
/// class-conditional (Mondrian) split-conformal prediction sets, each language with its own threshold fitted on its
/// validation names.
/// </summary>
/// <remarks>
/// Served probabilities under a prior are softmax(z / T + a), with a the prior's adjustment (log q − log π', see
/// <see cref="Serving.LanguagePrior"/>); T is fitted with the data prior's adjustment, on validation names, which
/// follow the data's mix. Each other named prior gets a temperature of its own, fitted on the validation names
/// reweighted to it (importance weights q / π): a model whose logits are compressed (label smoothing, an ensemble's
/// mean) is calibrated by a different T once a prior shifts its answers. A language's prediction-set score is its data-prior probability, whatever prior answers: as
/// label shift leaves p(name | language) alone, a threshold fitted on one language's validation names covers that
/// language with the same probability under any prior.
/// <para>
/// A plain conformal threshold holds its level on average over draws of the validation names; one draw of a few dozen
/// names can leave a language several points short. So each threshold is lowered until, with
/// <see cref="ThresholdConfidence"/> over that draw, it holds the level (training-conditional), as far as the
/// language's names allow; the manifest records the confidence reached. With fewer validation names than the level
/// needs at all (⌈(n+1)·coverage⌉ > n), a language has no threshold of its own; the pooled one stands in, fitted on
/// every validation name with each language weighing alike, so it aims at the coverage of an average language, without
/// a guarantee for that one (the manifest marks it <see cref="LanguageThreshold.Pooled"/>).
/// </para>
/// </remarks>
public static class Calibration
{
    /// <summary>Coverage levels a request may ask prediction sets for; the first is not the default, 0.9 is.</summary>
    public static readonly double[] CoverageLevels = [0.8, 0.9, 0.95];

    public const int ReliabilityBins = 15;

    /// <summary>
    /// The chance, over the draw of the validation names, with which each language's threshold aims to hold its
    /// coverage level, so that every language reaches it, not just the average draw.
    /// </summary>
    public const double ThresholdConfidence = 0.9;

    /// <summary>
    /// Fits the temperature and the per-language prediction-set thresholds on validation, and reports their effect on
    /// test, under each prior in <paramref name="priors"/> (the first is the data prior: its name and adjustment).
    /// </summary>
    public static CalibrationReport Fit(
        IReadOnlyList<string> languages,
        IReadOnlyList<double[]> validationLogits,
        IReadOnlyList<int> validationLabels,
        IReadOnlyList<double[]> testLogits,
        IReadOnlyList<int> testLabels,
        IReadOnlyList<(string Name, double[] Adjustment)> priors)
    {
        var data = priors[0].Adjustment;
        var temperature = FitTemperature(validationLogits, validationLabels, data);
        var validation = Probabilities(validationLogits, temperature, data);
        var testData = Probabilities(testLogits, temperature, data);
        var levels = CoverageLevels.Select(coverage => Level(languages, coverage, validation, validationLabels, testData, testLabels)).ToArray();
        var testShares = Shares(testLabels, languages.Count);
        var priorReports = priors.Select(prior =>
        {
            var priorTemperature = prior.Adjustment == data ? temperature : FitPriorTemperature(validationLogits, validationLabels, prior.Adjustment, data);
            var answered = prior.Adjustment == data ? testData : Probabilities(testLogits, priorTemperature, prior.Adjustment);
            var weights = ImportanceWeights(testLabels, testShares, Shares(prior.Adjustment, data, testShares));
            var reliability = Reliability(answered, testLabels, weights);
            var coverages = levels.Select(level =>
            {
                var thresholds = level.Languages!.Select(language => language.Threshold).ToArray();
                var (covered, size) = (0.0, 0.0);
                for (var i = 0; i < answered.Length; i++)
                {
                    var set = PredictionSet(answered[i], testData[i], thresholds, prior.Adjustment);
                    if (set.Contains(testLabels[i])) covered += weights[i];
                    size += weights[i] * set.Length;
                }
                return new PriorCoverage(level.Coverage, covered / weights.Sum(), size / weights.Sum());
            }).ToArray();
            return new PriorCalibration(
                prior.Name, ExpectedCalibrationError(reliability), EceIfCalibrated(answered, weights), reliability, coverages, Answers(languages, answered, testLabels), priorTemperature);
        }).ToArray();
        var reliabilityData = Reliability(testData, testLabels);
        return new CalibrationReport(
            temperature,
            NegativeLogLikelihood(testLogits, testLabels, 1),
            NegativeLogLikelihood(testLogits, testLabels, temperature, data),
            ExpectedCalibrationError(Reliability(testLogits.Select(logits => Softmax(logits, 1)).ToArray(), testLabels)),
            ExpectedCalibrationError(reliabilityData),
            reliabilityData,
            levels,
            priorReports);
    }

    private static PriorAnswers Answers(IReadOnlyList<string> languages, double[][] answered, IReadOnlyList<int> labels)
    {
        var scores = EvaluationResult.FromPredictions(languages, labels, answered.Select(probabilities => Rank(probabilities)[0]).ToArray(), 0);
        var topThree = answered.Where((probabilities, i) => EvaluationResult.IsInTopK(probabilities, labels[i])).Count() / (double)answered.Length;
        return new PriorAnswers(scores.Accuracy, scores.MacroF1, scores.BalancedAccuracy!.Value, topThree);
    }

    /// <summary>Label draws <see cref="EceIfCalibrated"/> averages over; seeded, so a manifest's figures are reproducible.</summary>
    private const int CalibratedDraws = 100;

    /// <summary>
    /// The mean weighted ECE when each example's label is drawn from its own probabilities, so that the model is
    /// calibrated by construction: what sampling noise alone contributes at this (effective) sample size.
    /// </summary>
    public static double EceIfCalibrated(IReadOnlyList<double[]> probabilities, IReadOnlyList<double> weights)
    {
        var random = new Random(CalibratedDraws);
        var labels = new int[probabilities.Count];
        var total = 0.0;
        for (var draw = 0; draw < CalibratedDraws; draw++)
        {
            for (var i = 0; i < labels.Length; i++)
            {
                var (u, k) = (random.NextDouble(), 0);
                while (k < probabilities[i].Length - 1 && (u -= probabilities[i][k]) >= 0) k++;
                labels[i] = k;
            }
            total += ExpectedCalibrationError(Reliability(probabilities, labels, weights));
        }
        return total / CalibratedDraws;
    }

    /// <summary>One coverage level: each language's threshold on validation, and the sets' coverage on test (data prior).</summary>
    private static PredictionSetLevel Level(
        IReadOnlyList<string> languages, double coverage, double[][] validation, IReadOnlyList<int> validationLabels, double[][] test, IReadOnlyList<int> testLabels)
    {
        var pooled = PooledThreshold(validation, validationLabels, languages.Count, coverage);
        var own = languages.Select((_, k) => ConformalThreshold(validation.Where((p, i) => validationLabels[i] == k).Select(p => p[k]), coverage)).ToArray();
        var thresholds = own.Select(threshold => threshold?.Threshold ?? pooled).ToArray();
        var noAdjustment = new double[languages.Count];
        var sets = test.Select(probabilities => PredictionSet(probabilities, probabilities, thresholds, noAdjustment)).ToArray();
        var perLanguage = languages.Select((language, k) =>
        {
            var names = Enumerable.Range(0, sets.Length).Where(i => testLabels[i] == k).ToArray();
            return new LanguageThreshold(
                language, thresholds[k], validationLabels.Count(label => label == k), own[k] is null,
                Ratio(names.Count(i => sets[i].Contains(k)), names.Length), names.Length, own[k]?.Confidence);
        }).ToArray();
        var covered = sets.Where((set, i) => set.Contains(testLabels[i])).Count();
        return new PredictionSetLevel(coverage, pooled, Ratio(covered, sets.Length), sets.Length == 0 ? 0 : sets.Average(set => set.Length), perLanguage);
    }

    /// <summary>softmax(logits / temperature), computed stably.</summary>
    public static double[] Softmax(IReadOnlyList<double> logits, double temperature)
    {
        var max = logits.Max();
        var exponentials = logits.Select(logit => Math.Exp((logit - max) / temperature)).ToArray();
        var sum = exponentials.Sum();
        return exponentials.Select(value => value / sum).ToArray();
    }

    /// <summary>The served probabilities softmax(z / T + adjustment) of logits z, allocating nothing.</summary>
    public static void Probabilities(ReadOnlySpan<double> logits, double temperature, ReadOnlySpan<double> adjustment, Span<double> probabilities)
    {
        for (var k = 0; k < probabilities.Length; k++) probabilities[k] = logits[k] / temperature + adjustment[k];
        FastRnn.Softmax(probabilities, temperature: 1);
    }

    private static double[][] Probabilities(IReadOnlyList<double[]> logits, double temperature, double[] adjustment) =>
        logits.Select(row =>
        {
            var probabilities = new double[row.Length];
            Probabilities(row, temperature, adjustment, probabilities);
            return probabilities;
        }).ToArray();

    /// <summary>Mean negative log-likelihood of softmax(logits / temperature + adjustment) for the true labels.</summary>
    public static double NegativeLogLikelihood(
        IReadOnlyList<double[]> logits, IReadOnlyList<int> labels, double temperature, double[]? adjustment = null, IReadOnlyList<double>? weights = null)
    {
        var (total, weightSum) = (0.0, 0.0);
        for (var i = 0; i < logits.Count; i++)
        {
            var scaled = logits[i].Select((logit, k) => logit / temperature + (adjustment?[k] ?? 0)).ToArray();
            var max = scaled.Max();
            var weight = weights?[i] ?? 1;
            total += weight * (max + Math.Log(scaled.Sum(value => Math.Exp(value - max))) - scaled[labels[i]]);
            weightSum += weight;
        }
        return weightSum == 0 ? 0 : total / weightSum;
    }

    /// <summary>
    /// The temperature minimising NLL (with the served adjustment, if any). NLL is convex in 1/T, so a golden-section
    /// search over 1/T in [0.05, 20] finds it.
    /// </summary>
    public static double FitTemperature(IReadOnlyList<double[]> logits, IReadOnlyList<int> labels, double[]? adjustment = null, IReadOnlyList<double>? weights = null)
    {
        double NllAt(double inverse) => NegativeLogLikelihood(logits, labels, 1 / inverse, adjustment, weights);
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

    /// <summary>
    /// The temperature a prior other than the data's answers with. That prior stands for another mix of names, so the
    /// temperature minimises the NLL of the validation names reweighted to it (importance weights q / π).
    /// </summary>
    public static double FitPriorTemperature(IReadOnlyList<double[]> validationLogits, IReadOnlyList<int> validationLabels, double[] adjustment, double[] dataAdjustment)
    {
        var shares = Shares(validationLabels, dataAdjustment.Length);
        return FitTemperature(validationLogits, validationLabels, adjustment, ImportanceWeights(validationLabels, shares, Shares(adjustment, dataAdjustment, shares)));
    }

    /// <summary>
    /// Equal-width bins of top probability over (0, 1], with mean confidence and accuracy in each; with
    /// <paramref name="weights"/>, weighted means and each bin's share of the weight.
    /// </summary>
    public static IReadOnlyList<ReliabilityBin> Reliability(IReadOnlyList<double[]> probabilities, IReadOnlyList<int> labels, IReadOnlyList<double>? weights = null)
    {
        var (count, mass, confidence, correct) = (new int[ReliabilityBins], new double[ReliabilityBins], new double[ReliabilityBins], new double[ReliabilityBins]);
        for (var i = 0; i < probabilities.Count; i++)
        {
            var top = probabilities[i].Max();
            var bin = Math.Clamp((int)Math.Ceiling(top * ReliabilityBins) - 1, 0, ReliabilityBins - 1);
            var weight = weights?[i] ?? 1;
            count[bin]++;
            mass[bin] += weight;
            confidence[bin] += weight * top;
            if (Array.IndexOf(probabilities[i], top) == labels[i]) correct[bin] += weight;
        }
        var total = mass.Sum();
        return Enumerable.Range(0, ReliabilityBins).Select(bin => new ReliabilityBin(
            (double)bin / ReliabilityBins, (double)(bin + 1) / ReliabilityBins, count[bin],
            mass[bin] == 0 ? 0 : confidence[bin] / mass[bin], mass[bin] == 0 ? 0 : correct[bin] / mass[bin],
            weights is null ? null : mass[bin] / total)).ToArray();
    }

    /// <summary>ECE: the mean gap between confidence and accuracy over the bins, weighted by their share of examples.</summary>
    public static double ExpectedCalibrationError(IReadOnlyList<ReliabilityBin> bins)
    {
        var total = bins.Sum(bin => bin.Weight ?? bin.Count);
        return total == 0 ? 0 : bins.Sum(bin => (bin.Weight ?? bin.Count) * Math.Abs(bin.Accuracy - bin.Confidence)) / total;
    }

    /// <summary>
    /// The split-conformal threshold for <paramref name="coverage"/> from the scores of one language's validation names
    /// (its probability, the "LAC" score 1 − p): the k-th largest. k = ⌈(n+1)·coverage⌉ holds the level on average over
    /// draws of the names; the smallest k ≤ n that holds it with <see cref="ThresholdConfidence"/> replaces it when
    /// there is one. Without one, going to the lowest score would buy little confidence at the cost of the language
    /// joining most sets, so the average guarantee stands. Returns the threshold and the confidence it has; null when
    /// ⌈(n+1)·coverage⌉ > n: too few names.
    /// </summary>
    public static (double Threshold, double Confidence)? ConformalThreshold(IEnumerable<double> scores, double coverage)
    {
        var descending = scores.OrderDescending().ToArray();
        var average = (int)Math.Ceiling((descending.Length + 1) * coverage);
        if (average > descending.Length || average < 1) return null;
        var rank = Enumerable.Range(average, descending.Length - average + 1)
            .FirstOrDefault(k => CoverageConfidence(descending.Length, k, coverage) >= ThresholdConfidence, average);
        return (descending[rank - 1], CoverageConfidence(descending.Length, rank, coverage));
    }

    /// <summary>
    /// The chance that the k-th largest of n exchangeable scores, taken as the threshold, covers at least
    /// <paramref name="coverage"/> of new names: that coverage is Beta(k, n − k + 1)-distributed, and
    /// P(Beta(k, n − k + 1) ≥ c) = P(Binomial(n, c) ≤ k − 1).
    /// </summary>
    public static double CoverageConfidence(int names, int rank, double coverage)
    {
        // The binomial probabilities are built up in logs: c^n alone underflows for the largest languages.
        var (logProbability, logOdds, total) = (names * Math.Log(1 - coverage), Math.Log(coverage / (1 - coverage)), 0.0);
        for (var covered = 0; covered < rank; covered++)
        {
            total += Math.Exp(logProbability);
            logProbability += Math.Log((double)(names - covered) / (covered + 1)) + logOdds;
        }
        return Math.Min(total, 1);
    }

    /// <summary>
    /// The threshold that the true language's probability reaches on <paramref name="coverage"/> of the validation
    /// names, each language weighing alike (a name weighs 1 / its language's count): the fallback for languages with
    /// too few names of their own.
    /// </summary>
    public static double PooledThreshold(IReadOnlyList<double[]> probabilities, IReadOnlyList<int> labels, int languageCount, double coverage)
    {
        var counts = new int[languageCount];
        foreach (var label in labels) counts[label]++;
        var present = counts.Count(count => count > 0);
        var descending = probabilities.Select((p, i) => (Score: p[labels[i]], Weight: 1.0 / counts[labels[i]] / present)).OrderByDescending(pair => pair.Score);
        var reached = 0.0;
        foreach (var (score, weight) in descending)
        {
            reached += weight;
            if (reached >= coverage - 1e-12) return score;
        }
        return 0;
    }

    /// <summary>
    /// A class-conditional prediction set, most probable first by <paramref name="answered"/>: every language whose
    /// data-prior probability reaches its threshold and which the prior allows (its adjustment is not −∞), and always
    /// the top answered language.
    /// </summary>
    public static int[] PredictionSet(double[] answered, double[] dataProbabilities, double[] thresholds, double[] adjustment)
    {
        var ranking = Rank(answered);
        var set = new int[ranking.Length];
        return set[..PredictionSet(ranking, dataProbabilities, thresholds, adjustment, set)];
    }

    /// <summary><see cref="PredictionSet(double[], double[], double[], double[])"/> into <paramref name="set"/>, given the ranking; returns its size.</summary>
    public static int PredictionSet(
        ReadOnlySpan<int> ranking, ReadOnlySpan<double> dataProbabilities, ReadOnlySpan<double> thresholds, ReadOnlySpan<double> adjustment, Span<int> set)
    {
        var size = 0;
        for (var i = 0; i < ranking.Length; i++)
        {
            var k = ranking[i];
            if (i == 0 || (!double.IsNegativeInfinity(adjustment[k]) && dataProbabilities[k] >= thresholds[k])) set[size++] = k;
        }
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

    /// <summary>Each language's share of the labels.</summary>
    private static double[] Shares(IReadOnlyList<int> labels, int languageCount)
    {
        var shares = new double[languageCount];
        foreach (var label in labels) shares[label] += 1.0 / labels.Count;
        return shares;
    }

    /// <summary>
    /// The language shares a prior stands for, from its adjustment: q ∝ π_test · exp(a − a_data), since a − a_data =
    /// log q − log π (the data prior's π being the test split's mix, as the split is stratified).
    /// </summary>
    private static double[] Shares(double[] adjustment, double[] dataAdjustment, double[] testShares)
    {
        var unnormalised = testShares.Select((share, k) => share == 0 ? 0 : share * Math.Exp(adjustment[k] - dataAdjustment[k])).ToArray();
        var total = unnormalised.Sum();
        return unnormalised.Select(value => value / total).ToArray();
    }

    /// <summary>Importance weights q(y) / π_test(y) that reweight the test split to the shares q.</summary>
    private static double[] ImportanceWeights(IReadOnlyList<int> labels, double[] testShares, double[] shares) =>
        labels.Select(label => shares[label] / testShares[label]).ToArray();

    private static double Ratio(int part, int whole) => whole == 0 ? 0 : (double)part / whole;
}
