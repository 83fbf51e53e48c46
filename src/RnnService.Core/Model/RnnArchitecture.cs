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
public sealed record RnnArchitecture(int HiddenSize, int VocabularySize, int LanguageCount, bool OutputBias, Precision Precision)
{
    internal ScalarType DType => Precision == Precision.Float64 ? ScalarType.Float64 : ScalarType.Float32;
}
