using RnnService.Core.Training;

namespace RnnService.Core.Tests;

public class EvaluationTests
{
    [Fact]
    public void ScoresAHandCountedExample()
    {
        // true:      A A A A B B C
        // predicted: A A B C B B B
        var result = EvaluationResult.FromPredictions(["A", "B", "C"], [0, 0, 0, 0, 1, 1, 2], [0, 0, 1, 2, 1, 1, 1], loss: 0.5);

        Assert.Equal(4.0 / 7, result.Accuracy, 1e-12);
        Assert.Equal([[2, 1, 1], [0, 2, 0], [0, 1, 0]], result.ConfusionMatrix);
        var (a, b, c) = (result.Languages[0], result.Languages[1], result.Languages[2]);
        Assert.Equal((1.0, 0.5, 2.0 / 3, 4), (a.Precision, a.Recall, a.F1, a.Support));
        Assert.Equal((0.5, 1.0, 2.0 / 3, 2), (b.Precision, b.Recall, b.F1, b.Support));
        Assert.Equal((0.0, 0.0, 0.0, 1), (c.Precision, c.Recall, c.F1, c.Support));
        Assert.Equal(4.0 / 9, result.MacroF1, 1e-12);
    }

    [Fact]
    public void BalancedAccuracyIsTheMeanRecallOfTheLanguagesPresent()
    {
        // recalls: A 2/4, B 2/2, C 0/1; D never occurs, so it does not count
        var result = EvaluationResult.FromPredictions(["A", "B", "C", "D"], [0, 0, 0, 0, 1, 1, 2], [0, 0, 1, 3, 1, 1, 1], loss: 0);

        Assert.Equal((0.5 + 1.0 + 0.0) / 3, result.BalancedAccuracy!.Value, 1e-12);
        Assert.Equal(4.0 / 7, result.Accuracy, 1e-12);
        Assert.Null(result.TopThreeAccuracy);
    }

    [Fact]
    public void ScoresRankTheTrueLanguageForTopThreeAccuracy()
    {
        double[][] scores =
        [
            [4, 3, 2, 1],   // true A: first
            [4, 3, 2, 1],   // true C: third
            [4, 3, 2, 1],   // true D: fourth
            [1, 1, 1, 1],   // true B: tied with all, which counts against it
            [0, 2, 2, 1],   // true D: behind two, third
        ];
        var result = EvaluationResult.FromScores(["A", "B", "C", "D"], [0, 2, 3, 1, 3], scores);

        Assert.Equal(3.0 / 5, result.TopThreeAccuracy!.Value, 1e-12);
        Assert.Equal(1.0 / 5, result.Accuracy, 1e-12);
        Assert.Equal([0, 0, 0, 1], result.ConfusionMatrix.Select(row => row[1]).ToArray());   // only the last row predicts B
        var expectedLoss = scores.Select((row, i) => Math.Log(row.Sum(Math.Exp)) - row[new[] { 0, 2, 3, 1, 3 }[i]]).Average();
        Assert.Equal(expectedLoss, result.Loss, 1e-12);
    }

    [Fact]
    public void ManifestsWrittenBeforeTheNewMeasuresStillRead()
    {
        const string old = """{"count": 2, "loss": 0.1, "accuracy": 0.5, "macroF1": 0.4, "languages": [], "confusionMatrix": [[1]]}""";

        var result = System.Text.Json.JsonSerializer.Deserialize<EvaluationResult>(old, RnnService.Core.Storage.ModelStore.JsonOptions)!;

        Assert.Equal((2, 0.5), (result.Count, result.Accuracy));
        Assert.Null(result.BalancedAccuracy);
        Assert.Null(result.TopThreeAccuracy);
    }
}
