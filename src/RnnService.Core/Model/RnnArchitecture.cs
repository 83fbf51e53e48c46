using static TorchSharp.torch;

namespace RnnService.Core.Model;

/// <summary>Floating-point precision of a model's parameters.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "Named after the torch dtypes they select.")]
public enum Precision
{
    Float32,
    Float64,
}

/// <summary>How a new model's parameters are drawn before training.</summary>
public enum RnnInitialization
{
    /// <summary>Orthogonal W (keeps ‖h‖ through the recurrence), U from a standard normal, V scaled by 1/√hidden, zero c.</summary>
    Orthogonal,

    /// <summary>The article's reference: identity W, U and V from a standard normal.</summary>
    Identity,
}

/// <summary>Everything needed to rebuild a <see cref="CharRnn"/> before its weights are loaded.</summary>
/// <param name="BoundaryMarks">The model reads a begin-of-name symbol before the first character and an end-of-name symbol after the last.</param>
/// <param name="NgramBuckets">
/// When positive, each step also brings in the hashed character bigram and trigram ending at it, as extra columns of U
/// (this many, shared by both); 0 reads single characters only.
/// </param>
/// <param name="Bidirectional">A second RNN reads the name right to left, and V reads both final states.</param>
/// <remarks>The last three default to off, so a manifest written before they existed rebuilds the model it describes.</remarks>
public sealed record RnnArchitecture(
    int HiddenSize,
    int VocabularySize,
    int LanguageCount,
    bool OutputBias,
    Precision Precision,
    bool BoundaryMarks = false,
    int NgramBuckets = 0,
    bool Bidirectional = false)
{
    internal ScalarType DType => Precision == Precision.Float64 ? ScalarType.Float64 : ScalarType.Float32;

    /// <summary>Columns of U: every input symbol (unknown and known characters, the two marks) and every n-gram bucket.</summary>
    public int InputSize => VocabularySize + (BoundaryMarks ? 2 : 0) + NgramBuckets;

    /// <summary>RNNs reading the name: 1, or 2 when a second one reads it right to left.</summary>
    public int Directions => Bidirectional ? 2 : 1;
}
