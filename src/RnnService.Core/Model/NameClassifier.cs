using RnnService.Core.Data;
using static TorchSharp.torch;

namespace RnnService.Core.Model;

/// <summary>A trained <see cref="CharRnn"/> ready to answer: it encodes names and names the languages of its outputs.</summary>
public sealed class NameClassifier(CharRnn model, Vocabulary vocabulary, IReadOnlyList<string> languages) : IDisposable
{
    public CharRnn Model { get; } = model;
    public Vocabulary Vocabulary { get; } = vocabulary;
    public IReadOnlyList<string> Languages { get; } = languages;

    /// <summary>
    /// Language probabilities of each normalised name, in <see cref="Languages"/> order, from one batched forward pass.
    /// </summary>
    public double[][] Predict(IReadOnlyList<string> normalizedNames)
    {
        if (normalizedNames.Count == 0) return [];
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var chars = LeftPadding.Pack(normalizedNames.Select(Vocabulary.Encode).ToArray());
        var probabilities = nn.functional.softmax(Model.forward(chars), 1).to(ScalarType.Float64);   // (B, languages)
        var flat = probabilities.data<double>().ToArray();
        return Enumerable.Range(0, normalizedNames.Count).Select(b => flat[(b * Languages.Count)..((b + 1) * Languages.Count)]).ToArray();
    }

    public void Dispose() => Model.Dispose();
}
