using RnnService.Baseline;
using RnnService.Core.Training;

namespace RnnService.Core.Tests;

public class NgramBaselineTests
{
    [Fact]
    public void TrainsOnTheTrainingNamesAndLabelsHeldOutNamesByTheirEndings()
    {
        var split = TestData.Split();

        var baseline = NgramBaseline.Train(split, new NgramBaselineOptions());
        var scores = baseline.LogProbabilities(split.Test.Select(example => example.Name).ToArray());
        var result = EvaluationResult.FromScores(split.Languages, split.Test.Select(example => example.Language).ToArray(), scores);

        Assert.All(scores, row => Assert.Equal(1.0, row.Sum(Math.Exp), 1e-4));
        Assert.True(result.Accuracy >= 0.9, $"accuracy {result.Accuracy}; confusion {string.Join(" / ", result.ConfusionMatrix.Select(row => string.Join(",", row)))}");
    }
}
