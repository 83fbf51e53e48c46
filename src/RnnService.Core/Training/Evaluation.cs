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

    /// <summary>Runs the model over the examples without gradients, in batches of similar length, and scores it.</summary>
    public static EvaluationResult Evaluate(
        CharRnn model, Vocabulary vocabulary, IReadOnlyList<string> languages, IReadOnlyList<LabeledName> examples)
    {
        var ordered = examples.OrderBy(example => example.Name.Length).ToArray();
        var predicted = new List<int>(ordered.Length);
        double lossSum = 0;
        using (no_grad())
        {
            foreach (var batch in ordered.Chunk(BatchSize))
            {
                using var scope = NewDisposeScope();
                var chars = LeftPadding.Pack(batch.Select(example => vocabulary.Encode(example.Name)).ToArray());
                var labels = tensor(batch.Select(example => (long)example.Language).ToArray());
                var logits = model.forward(chars);                                       // (B, languages)
                lossSum += nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum).ToDouble();
                predicted.AddRange(logits.argmax(1).data<long>().Select(index => (int)index));
            }
        }
        var loss = ordered.Length == 0 ? 0 : lossSum / ordered.Length;
        return EvaluationResult.FromPredictions(languages, ordered.Select(example => example.Language).ToArray(), predicted, loss);
    }

    /// <summary>Logits (before softmax) of each example, in the examples' order; calibration works from these.</summary>
    public static double[][] Logits(CharRnn model, Vocabulary vocabulary, IReadOnlyList<LabeledName> examples)
    {
        var logits = new List<double[]>(examples.Count);
        using (no_grad())
        {
            foreach (var batch in examples.Chunk(BatchSize))
            {
                using var scope = NewDisposeScope();
                var output = model.forward(LeftPadding.Pack(batch.Select(example => vocabulary.Encode(example.Name)).ToArray()));
                var flat = output.to(ScalarType.Float64).data<double>().ToArray();
                var width = (int)output.shape[1];
                logits.AddRange(Enumerable.Range(0, batch.Length).Select(b => flat[(b * width)..((b + 1) * width)]));
            }
        }
        return [.. logits];
    }
}
