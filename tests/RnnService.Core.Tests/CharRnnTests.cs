using RnnService.Core.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnService.Core.Tests;

public class CharRnnTests
{
    private static readonly int[][] Names = [[3, 4, 5, 6, 7, 2], [5, 2], [7, 7, 3, 4], [6]];

    private static CharRnn TinyModel(Precision precision = Precision.Float32, int seed = 11) =>
        new(new RnnArchitecture(HiddenSize: 8, VocabularySize: 7, LanguageCount: 3, OutputBias: true, precision), RnnInitialization.Orthogonal, new Generator((ulong)seed));

    /// <summary>Begin/end marks, 13 n-gram buckets and a right-to-left RNN.</summary>
    private static readonly RnnArchitecture EveryOption = new(HiddenSize: 8, VocabularySize: 7, LanguageCount: 3, OutputBias: true, Precision.Float64, BoundaryMarks: true, NgramBuckets: 13, Bidirectional: true);

    [Fact]
    public void WithEveryOptionALeftPaddedBatchStillGivesEachNameItsOwnState()
    {
        using var scope = NewDisposeScope();
        using var model = new CharRnn(EveryOption, random: new Generator(5));

        var batched = model.Encode(LeftPadding.Pack(Names, EveryOption));          // (2·hidden, B)
        Assert.Equal([16, Names.Length], batched.shape);
        for (var b = 0; b < Names.Length; b++)
        {
            var alone = model.Encode(LeftPadding.Pack([Names[b]], EveryOption));
            Assert.True(batched[.., b..(b + 1)].allclose(alone, rtol: 0, atol: 1e-9), $"name {b} differs");
        }
    }

    [Fact]
    public void WithEveryOptionGradientsMatchFiniteDifferencesAndTheParametersAreExplicitMatrices()
    {
        using var scope = NewDisposeScope();
        using var model = new CharRnn(EveryOption, random: new Generator(5));
        var inputs = LeftPadding.Pack(Names, EveryOption);
        var labels = tensor(new long[] { 0, 2, 1, 1 });
        Tensor Loss() => nn.functional.cross_entropy(model.forward(inputs), labels);

        Loss().backward();

        var shapes = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        Assert.Equal(new Dictionary<string, long[]> { ["U"] = [8, 22], ["W"] = [8, 8], ["Ur"] = [8, 22], ["Wr"] = [8, 8], ["V"] = [3, 16], ["c"] = [3, 1] }, shapes);
        foreach (var (name, parameter) in model.named_parameters())
        {
            var flat = parameter.detach().view(-1);
            var gradient = parameter.grad!.view(-1);
            for (var i = 0; i < flat.shape[0]; i += 7)
            {
                double original = flat[i].item<double>(), plus, minus;
                using (no_grad())
                {
                    flat[i] = original + 1e-6;
                    plus = Loss().item<double>();
                    flat[i] = original - 1e-6;
                    minus = Loss().item<double>();
                    flat[i] = original;
                }
                Assert.True(Math.Abs((plus - minus) / 2e-6 - gradient[i].item<double>()) < 1e-6, $"{name}[{i}]");
            }
        }
    }

    [Fact]
    public void AnEnsembleIsOneRnnWhoseLogitsAreTheMeanOfItsMembersLogits()
    {
        using var scope = NewDisposeScope();
        var memberArchitecture = EveryOption with { HiddenSize = 5 };
        CharRnn[] members = [new(memberArchitecture, random: new Generator(1)), new(memberArchitecture, random: new Generator(2)), new(memberArchitecture, random: new Generator(3))];
        foreach (var member in members) member.get_parameter("c")!.detach().normal_();     // a bias that differs per member
        using var ensemble = CharRnn.Ensemble(members);
        var inputs = LeftPadding.Pack(Names, EveryOption);

        var expected = stack(members.Select(member => member.forward(inputs)).ToArray()).mean([0]);
        Assert.Equal(memberArchitecture with { HiddenSize = 15 }, ensemble.Architecture);
        Assert.True(ensemble.forward(inputs).allclose(expected, rtol: 0, atol: 1e-9));
        var w = ensemble.get_parameter("W")!;                                            // no member reads another's state
        Assert.Equal(0, w[..5, 5..].abs().max().to(ScalarType.Float64).item<double>());
        Assert.Equal(0, w[5..10, 10..].abs().max().to(ScalarType.Float64).item<double>());
        Assert.Throws<ArgumentException>(() => CharRnn.Ensemble([members[0], new CharRnn(memberArchitecture with { NgramBuckets = 7 })]));
    }

    [Fact]
    public void InputFeaturesAreTheMarkedSymbolsAndTheirHashedBigramsAndTrigrams()
    {
        var features = new int[4 * 3];
        InputFeatures.Write(EveryOption, [3, 4], reversed: false, features);
        var reversed = new int[4 * 3];
        InputFeatures.Write(EveryOption, [3, 4], reversed: true, reversed);

        const int begin = 8, end = 9, firstBucket = 10, lastBucket = 22;     // [0 | U]: 1..7 symbols, 8/9 marks, 10..22 buckets
        Assert.Equal([begin, 3, 4, end], Enumerable.Range(0, 4).Select(t => features[3 * t]));
        Assert.Equal([end, 4, 3, begin], Enumerable.Range(0, 4).Select(t => reversed[3 * t]));
        Assert.Equal((0, 0), (features[1], features[2]));                   // the first symbol has no bigram or trigram
        Assert.Equal(0, features[3 + 2]);                                    // the second has a bigram but no trigram
        Assert.All(new[] { features[4], features[7], features[8], features[10], features[11] }, bucket => Assert.InRange(bucket, firstBucket, lastBucket));
        Assert.Equal(4 + 2, InputFeatures.Steps(EveryOption, 4));
    }

    [Fact]
    public void LeftPaddedBatchGivesEachNameTheSameStateAndProbabilitiesAsRunningItAlone()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModel();

        var batched = model.Encode(LeftPadding.Pack(Names));                       // (hidden, B), padded to 6 steps
        for (var b = 0; b < Names.Length; b++)
        {
            var alone = model.Encode(LeftPadding.Pack([Names[b]]));                // (hidden, 1), no padding
            Assert.True(batched[.., b..(b + 1)].allclose(alone, rtol: 0, atol: 1e-5), $"name {b} differs");
            Assert.True(
                softmax(model.Readout(batched), 1)[b].allclose(softmax(model.Readout(alone), 1)[0], rtol: 0, atol: 1e-5));
        }
    }

    [Fact]
    public void RightPaddingWouldChangeTheFinalState()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModel();
        var name = Names[1];

        var alone = model.Encode(LeftPadding.Pack([name]));
        var rightPadded = model.Encode(tensor(name.Select(i => (long)i).Concat([0L, 0L, 0L]).ToArray(), [name.Length + 3, 1]));

        // Zero inputs after the name still apply W and tanh, moving h away from the name's true final state.
        Assert.False(rightPadded.allclose(alone, rtol: 0, atol: 1e-3));
    }

    [Fact]
    public void ProbabilitiesArePositiveAndSumToOne()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModel();

        var probabilities = softmax(model.forward(LeftPadding.Pack(Names)), 1);

        Assert.Equal([Names.Length, 3], probabilities.shape);
        Assert.True(probabilities.sum(1).allclose(ones(Names.Length), rtol: 0, atol: 1e-6));
        Assert.True(probabilities.gt(0).all().item<bool>());
    }

    [Fact]
    public void AutogradGradientsMatchFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModel(Precision.Float64);
        var chars = LeftPadding.Pack(Names);
        var labels = tensor(new long[] { 0, 2, 1, 1 });
        Tensor Loss() => nn.functional.cross_entropy(model.forward(chars), labels);

        Loss().backward();

        const double epsilon = 1e-6;
        var checkedEntries = 0;
        foreach (var (name, parameter) in model.named_parameters())
        {
            var flat = parameter.detach().view(-1);                // shares storage with the parameter
            var gradient = parameter.grad!.view(-1);
            for (var i = 0; i < flat.shape[0]; i += 5)
            {
                double original = flat[i].item<double>(), plus, minus;
                using (no_grad())
                {
                    flat[i] = original + epsilon;
                    plus = Loss().item<double>();
                    flat[i] = original - epsilon;
                    minus = Loss().item<double>();
                    flat[i] = original;
                }
                var numeric = (plus - minus) / (2 * epsilon);
                Assert.True(Math.Abs(numeric - gradient[i].item<double>()) < 1e-6, $"{name}[{i}]: numeric {numeric}, autograd {gradient[i].item<double>()}");
                checkedEntries++;
            }
        }
        Assert.True(checkedEntries > 30);
    }

    [Fact]
    public void ParametersAreTheExplicitMatricesOfTheRecurrence()
    {
        using var model = TinyModel();

        var shapes = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);

        Assert.Equal(new Dictionary<string, long[]> { ["U"] = [8, 7], ["W"] = [8, 8], ["V"] = [3, 8], ["c"] = [3, 1] }, shapes);
    }

    [Fact]
    public void OrthogonalInitializationGivesAnOrthogonalW()
    {
        using var scope = NewDisposeScope();
        using var model = TinyModel();
        var w = model.named_parameters().Single(p => p.name == "W").parameter;

        Assert.True(w.matmul(w.T).allclose(eye(8), rtol: 0, atol: 1e-5));
    }
}
