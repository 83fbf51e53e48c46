using RnnService.Core.Data;
using RnnService.Core.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnService.Core.Training;

public sealed record LanguageScore(string Language, double Precision, double Recall, double F1, int Support);

/// <summary>How well a model labels a set of examples.</summary>
/// <param name="Loss">Mean cross-entropy (negative log-likelihood of the true language), every example weighing alike.</param>
/// <param name="Languages">Per-language precision, recall and F1; recall is the share of a language's names it labels right.</param>
/// <param name="ConfusionMatrix">Row = true language, column = predicted language, in the order of <see cref="Languages"/>.</param>
/// <param name="BalancedAccuracy">
/// Mean recall over the languages present: the accuracy if every language were asked about equally often. Null in
/// manifests written before it was measured.
/// </param>
/// <param name="TopThreeAccuracy">Share of examples whose true language is among the three highest scores; null when only labels were scored.</param>
public sealed record EvaluationResult(
    int Count,
    double Loss,
    double Accuracy,
    double MacroF1,
    IReadOnlyList<LanguageScore> Languages,
    int[][] ConfusionMatrix,
    double? BalancedAccuracy = null,
    double? TopThreeAccuracy = null)
{
    /// <summary>How many top-ranked languages <see cref="TopThreeAccuracy"/> looks at.</summary>
    public const int TopK = 3;

    /// <summary>
    /// Scores predictions against true labels: accuracy, macro-averaged F1, balanced accuracy and per-language
    /// precision/recall/F1.
    /// </summary>
    public static EvaluationResult FromPredictions(IReadOnlyList<string> languages, IReadOnlyList<int> actual, IReadOnlyList<int> predicted, double loss)
    {
        var confusion = languages.Select(_ => new int[languages.Count]).ToArray();
        var correct = 0;
        for (var i = 0; i < actual.Count; i++)
        {
            confusion[actual[i]][predicted[i]]++;
            if (actual[i] == predicted[i]) correct++;
        }
        var scores = languages.Select((language, k) =>
        {
            var truePositives = confusion[k][k];
            var support = confusion[k].Sum();
            var predictedCount = confusion.Sum(row => row[k]);
            var precision = predictedCount == 0 ? 0 : (double)truePositives / predictedCount;
            var recall = support == 0 ? 0 : (double)truePositives / support;
            var f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            return new LanguageScore(language, precision, recall, f1, support);
        }).ToArray();
        var accuracy = actual.Count == 0 ? 0 : (double)correct / actual.Count;
        var present = scores.Where(score => score.Support > 0).ToArray();
        var balanced = present.Length == 0 ? 0 : present.Average(score => score.Recall);
        return new EvaluationResult(actual.Count, loss, accuracy, scores.Average(score => score.F1), scores, confusion, balanced);
    }

    /// <summary>
    /// Scores each example's per-language scores (logits, or log-probabilities) against true labels: the top score is
    /// the prediction, the loss is the NLL of their softmax, and top-3 accuracy is measured too.
    /// </summary>
    public static EvaluationResult FromScores(IReadOnlyList<string> languages, IReadOnlyList<int> actual, IReadOnlyList<double[]> scores)
    {
        var predicted = scores.Select(row => Array.IndexOf(row, row.Max())).ToArray();
        var inTopK = actual.Where((label, i) => IsInTopK(scores[i], label)).Count();
        return FromPredictions(languages, actual, predicted, Calibration.NegativeLogLikelihood(scores, actual, 1)) with
        {
            TopThreeAccuracy = actual.Count == 0 ? 0 : (double)inTopK / actual.Count,
        };
    }

    /// <summary>
    /// Whether fewer than <see cref="TopK"/> other languages score at least as high as <paramref name="label"/>: a tie
    /// counts against the label, so a constant score never looks right.
    /// </summary>
    public static bool IsInTopK(double[] scores, int label) => scores.Where((score, k) => k != label && score >= scores[label]).Count() < TopK;
}

public static class Evaluator
{
    private const int BatchSize = 1024;

    /// <summary>Runs the model over the examples without gradients and scores it (loss: plain NLL).</summary>
    public static EvaluationResult Evaluate(
        CharRnn model, Vocabulary vocabulary, IReadOnlyList<string> languages, IReadOnlyList<LabeledName> examples) =>
        Score(languages, examples, Logits(model, vocabulary, examples));

    /// <summary>Scores logits already computed for the examples (see <see cref="Logits"/>).</summary>
    public static EvaluationResult Score(IReadOnlyList<string> languages, IReadOnlyList<LabeledName> examples, IReadOnlyList<double[]> logits) =>
        EvaluationResult.FromScores(languages, examples.Select(example => example.Language).ToArray(), logits);

    /// <summary>
    /// The scores a prior answers from: the logits divided by its temperature, plus its adjustment (softmax of them is
    /// what <see cref="Calibration.Probabilities(ReadOnlySpan{double}, double, ReadOnlySpan{double}, Span{double})"/> serves).
    /// </summary>
    public static double[][] AsServed(IReadOnlyList<double[]> logits, double temperature, IReadOnlyList<double> adjustment) =>
        logits.Select(row => row.Select((logit, k) => logit / temperature + adjustment[k]).ToArray()).ToArray();

    /// <summary>Scores of the answers a prior serves (see <see cref="AsServed"/>).</summary>
    public static EvaluationResult ScoreAsServed(
        IReadOnlyList<string> languages, IReadOnlyList<LabeledName> examples, IReadOnlyList<double[]> logits, double temperature, IReadOnlyList<double> adjustment) =>
        Score(languages, examples, AsServed(logits, temperature, adjustment));

    /// <summary>
    /// Logits (before softmax) of each example, in the examples' order, computed without gradients in batches of
    /// similar length (so they pad little); evaluation and calibration work from these.
    /// </summary>
    public static double[][] Logits(CharRnn model, Vocabulary vocabulary, IReadOnlyList<LabeledName> examples)
    {
        var logits = new double[examples.Count][];
        var byLength = Enumerable.Range(0, examples.Count).OrderBy(i => examples[i].Name.Length).ToArray();
        using (no_grad())
        {
            foreach (var batch in byLength.Chunk(BatchSize))
            {
                using var scope = NewDisposeScope();
                var output = model.forward(LeftPadding.Pack(batch.Select(i => vocabulary.Encode(examples[i].Name)).ToArray(), model.Architecture));  // (B, languages)
                var flat = output.to(ScalarType.Float64).data<double>().ToArray();
                var width = (int)output.shape[1];
                for (var b = 0; b < batch.Length; b++) logits[batch[b]] = flat[(b * width)..((b + 1) * width)];
            }
        }
        return logits;
    }
}
