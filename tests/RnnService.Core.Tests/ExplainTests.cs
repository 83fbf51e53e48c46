using RnnService.Core.Data;
using RnnService.Core.Storage;

namespace RnnService.Core.Tests;

public sealed class ExplainTests : IDisposable
{
    private readonly TemporaryDirectory models = new();
    private readonly LoadedModel model;

    public ExplainTests()
    {
        TinyModel.Seed(models.Path, 1);
        model = new ModelStore(models.Path).Load(1);
    }

    public void Dispose()
    {
        model.Dispose();
        models.Dispose();
    }

    [Theory]
    [InlineData("rossini")]
    [InlineData("ez")]
    [InlineData("x")]
    public void ThereIsOneStepPerCharacterAndTheLastIsThePrediction(string name)
    {
        var steps = model.Classifier.Explain(name);

        Assert.Equal(name, new string(steps.Select(step => step.Character).ToArray()));
        Assert.Equal(model.Classifier.Predict([name])[0], steps[^1].Probabilities);
        var directions = TinyModel.Config.Bidirectional ? 2 : 1;
        Assert.All(steps, step => Assert.Equal(directions * TinyModel.Config.HiddenSize, step.Hidden.Length));
        Assert.All(steps, step => Assert.Equal(1.0, step.Probabilities.Sum(), 1e-6));
    }

    [Fact]
    public void EachStepIsThePredictionForThePrefixReadSoFar()
    {
        var steps = model.Classifier.Explain("ivanov");

        for (var t = 0; t < steps.Count; t++)
        {
            var prefix = model.Classifier.Predict(["ivanov"[..(t + 1)]])[0];
            Assert.Equal(prefix, steps[t].Probabilities);
        }
    }

    [Fact]
    public void EachStepsHiddenStateIsTorchSharpsWithinTolerance()
    {
        const string name = "kowalski";
        var steps = model.Classifier.Explain(name);
        var classifier = model.Classifier;

        using var scope = TorchSharp.torch.NewDisposeScope();
        using var noGrad = TorchSharp.torch.no_grad();
        for (var t = 0; t < name.Length; t++)
        {
            // The state after t + 1 characters: the final state(s) of the model run on the prefix read so far.
            var prefix = Model.LeftPadding.Pack([classifier.Vocabulary.Encode(name[..(t + 1)])], classifier.Model.Architecture);
            var torch = classifier.Model.Encode(prefix).to(TorchSharp.torch.ScalarType.Float64).data<double>().ToArray();
            Assert.Equal(torch.Length, steps[t].Hidden.Length);
            Assert.All(torch.Zip(steps[t].Hidden), pair => Assert.Equal(pair.First, pair.Second, 1e-5));
        }
    }

    [Fact]
    public void StepsReportUnknownCharactersAndTheNormOfTheHiddenState()
    {
        var steps = model.Classifier.Explain("l€z");

        Assert.Equal([true, false, true], steps.Select(step => step.Known));
        Assert.All(steps, step => Assert.Equal(Math.Sqrt(step.Hidden.Sum(v => v * v)), step.Norm, 1e-12));
        Assert.All(steps, step => Assert.All(step.Hidden, v => Assert.InRange(v, -1.0, 1.0))); // tanh
    }
}
