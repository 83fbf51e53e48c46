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
}
