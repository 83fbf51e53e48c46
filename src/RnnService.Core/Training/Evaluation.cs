using RnnService.Core.Data;
using RnnService.Core.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnService.Core.Training;

public sealed record LanguageScore(string Language, double Precision, double Recall, double F1, int Support);

/// <summary>How well a model labels a set of examples.</summary>
/// <param name="Loss">Mean cross-entropy (negative log-likelihood of the true language), every example weighing alike.</param>
/// <param name="ConfusionMatrix">Row = true language, column = predicted language, in the order of <see cref="Languages"/>.</param>
public sealed record EvaluationResult(
    int Count,
    double Loss,
    double Accuracy,
    double MacroF1,
    IReadOnlyList<LanguageScore> Languages,
    int[][] ConfusionMatrix)
{
    /// <summary>Scores predictions against true labels: accuracy, macro-averaged F1 and per-language precision/recall/F1.</summary>
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
        return new EvaluationResult(actual.Count, loss, accuracy, scores.Average(score => score.F1), scores, confusion);
    }
}

public static class Evaluator
{
    private const int BatchSize = 1024;

    /// <summary>Runs the model over the examples without gradients and scores it (loss: plain NLL).</summary>
    public static EvaluationResult Evaluate(
        CharRnn model, Vocabulary vocabulary, IReadOnlyList<string> languages, IReadOnlyList<LabeledName> examples) =>
        Score(languages, examples, Logits(model, vocabulary, examples));

    /// <summary>Scores logits already computed for the examples (see <see cref="Logits"/>).</summary>
    public static EvaluationResult Score(IReadOnlyList<string> languages, IReadOnlyList<LabeledName> examples, IReadOnlyList<double[]> logits)
    {
        var labels = examples.Select(example => example.Language).ToArray();
        var predicted = logits.Select(row => Array.IndexOf(row, row.Max())).ToArray();
        return EvaluationResult.FromPredictions(languages, labels, predicted, Calibration.NegativeLogLikelihood(logits, labels, 1));
    }

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
                var output = model.forward(LeftPadding.Pack(batch.Select(i => vocabulary.Encode(examples[i].Name)).ToArray()));  // (B, languages)
                var flat = output.to(ScalarType.Float64).data<double>().ToArray();
                var width = (int)output.shape[1];
                for (var b = 0; b < batch.Length; b++) logits[batch[b]] = flat[(b * width)..((b + 1) * width)];
            }
        }
        return logits;
    }
}
