using RnnService.Core.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnService.Core.Model;

/// <summary>
/// A trained <see cref="CharRnn"/> ready to answer: it encodes names, names the languages of its outputs, and serves
/// calibrated probabilities, softmax(logits / <see cref="Temperature"/>).
/// </summary>
/// <remarks>
/// Answers come from <see cref="FastRnn"/>, a managed copy of the weights taken here, once: for short names TorchSharp's
/// per-operation overhead costs more than the arithmetic (about 85 µs against 5 µs per name, see docs/performance.md).
/// The model must not be trained further once wrapped. <see cref="PredictWithTorch"/> keeps the TorchSharp forward pass,
/// the source of truth the tests hold the fast path to.
/// </remarks>
public sealed class NameClassifier(CharRnn model, Vocabulary vocabulary, IReadOnlyList<string> languages, double temperature = 1) : IDisposable
{
    private readonly FastRnn fast = new(model);

    public CharRnn Model { get; } = model;
    public Vocabulary Vocabulary { get; } = vocabulary;
    public IReadOnlyList<string> Languages { get; } = languages;
    public double Temperature { get; } = temperature;

    /// <summary>Language probabilities of each normalised name, in <see cref="Languages"/> order.</summary>
    public double[][] Predict(IReadOnlyList<string> normalizedNames) => fast.Predict(normalizedNames, Vocabulary, Temperature);

    /// <summary>The language probabilities of one normalised name into <paramref name="probabilities"/>, allocating nothing.</summary>
    public void Predict(string normalizedName, Span<double> probabilities) => fast.Predict(normalizedName, Vocabulary, probabilities, Temperature);

    /// <summary>
    /// The logits of one normalised name into <paramref name="logits"/>: the output before temperature and softmax, for
    /// callers that adjust it first (a prior). Allocates nothing.
    /// </summary>
    public void Logits(string normalizedName, Span<double> logits) => fast.Logits(normalizedName, Vocabulary, logits);

    /// <summary>
    /// How the RNN reads one normalised name, character by character: after each character, the hidden state h_t, the
    /// logits, and the probabilities the model would give if the name ended there. The last step is exactly
    /// <see cref="Predict(string, Span{double})"/>'s answer.
    /// </summary>
    public IReadOnlyList<ExplainedStep> Explain(string normalizedName) =>
        fast.Explain(normalizedName, Vocabulary)
            .Select((step, t) =>
            {
                var probabilities = step.Logits.ToArray();
                FastRnn.Softmax(probabilities, Temperature);
                return new ExplainedStep(
                    normalizedName[t], Vocabulary.Contains(normalizedName[t]), Array.ConvertAll(step.Hidden, value => (double)value), step.Logits, probabilities);
            })
            .ToArray();

    /// <summary>The same probabilities from TorchSharp, in one left-padded batched forward pass.</summary>
    public double[][] PredictWithTorch(IReadOnlyList<string> normalizedNames)
    {
        if (normalizedNames.Count == 0) return [];
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        using var temperature = Temperature.ToScalar();
        var chars = LeftPadding.Pack(normalizedNames.Select(Vocabulary.Encode).ToArray(), Model.Architecture);
        var logits = Model.forward(chars);                                                          // (B, languages)
        var flat = nn.functional.softmax(logits.div(temperature), 1).to(ScalarType.Float64).data<double>().ToArray();
        return Enumerable.Range(0, normalizedNames.Count).Select(b => flat[(b * Languages.Count)..((b + 1) * Languages.Count)]).ToArray();
    }

    public void Dispose() => Model.Dispose();
}

/// <summary>The RNN after reading one more character.</summary>
/// <param name="Hidden">h_t, the partial result so far (the name's embedding after the last character).</param>
/// <param name="Logits">V·h_t + c, in language order.</param>
/// <param name="Probabilities">softmax((V·h_t + c) / T): the answer if the name ended here, in language order.</param>
public sealed record ExplainedStep(char Character, bool Known, double[] Hidden, double[] Logits, double[] Probabilities)
{
    public double Norm => Math.Sqrt(Hidden.Sum(value => value * value));
}
