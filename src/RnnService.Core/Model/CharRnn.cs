using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnService.Core.Model;

/// <summary>
/// A vanilla character-level RNN built from explicit tensors:
/// <code>
///   h_t = tanh(W·h_{t-1} + U·x_t)    h_0 = 0, x_t = one-hot of character t
///   y   = softmax(V·h_T + c)          h_T is the name's embedding
/// </code>
/// W (hidden×hidden) carries the state from one character to the next, U (hidden×vocab) brings a character in,
/// V (languages×hidden) reads the languages out of the final state.
/// </summary>
/// <remarks>
/// <para>Sums are written as <c>addmm</c>, which takes its coefficients as plain numbers: <c>a + b</c> would hand LibTorch a
/// temporary <see cref="Scalar"/> (alpha = 1) that the garbage collector may free while native code reads it.</para>
/// There is deliberately no recurrent bias b: with one-hot inputs, b would add the same vector to every column of U,
/// which U learns on its own. Leaving it out keeps h at exactly 0 through zero-vector padding, so a batch padded on
/// the left runs all names in lock-step and still ends in each name's exact final state, without masks.
/// </remarks>
public sealed class CharRnn : nn.Module<Tensor, Tensor>
{
    // Parameters in the order the forward pass uses them. Short math names, as in the equations above.
    private readonly Parameter U; // (hidden, vocab)     input → hidden
    private readonly Parameter W; // (hidden, hidden)    hidden → hidden
    private readonly Parameter V; // (languages, hidden) hidden → output
    private readonly Parameter? c; // (languages, 1)     output bias, optional

    public CharRnn(RnnArchitecture architecture, RnnInitialization initialization = RnnInitialization.Orthogonal, Generator? random = null)
        : base(nameof(CharRnn))
    {
        Architecture = architecture;
        var (hidden, vocab, languages, dtype) = (architecture.HiddenSize, architecture.VocabularySize, architecture.LanguageCount, architecture.DType);
        U = new Parameter(randn(hidden, vocab, dtype, generator: random));     // each character moves h by O(1)
        if (initialization == RnnInitialization.Identity)
        {
            W = new Parameter(eye(hidden, dtype: dtype));
            V = new Parameter(randn(languages, hidden, dtype, generator: random));
        }
        else
        {
            using var rootHidden = Math.Sqrt(hidden).ToScalar();
            W = new Parameter(RandomOrthogonal(hidden, dtype, random));                                  // keeps ‖h‖ step to step
            V = new Parameter(randn(languages, hidden, dtype, generator: random).div_(rootHidden));         // logits of O(1)
        }
        c = architecture.OutputBias ? new Parameter(zeros(languages, 1, dtype)) : null;
        RegisterComponents();
    }

    public RnnArchitecture Architecture { get; }

    /// <summary>Language logits (B, languages) of a batch of left-padded character indices (T, B).</summary>
    public override Tensor forward(Tensor chars) => Readout(Encode(chars));

    /// <summary>
    /// Final hidden states H (hidden, B), the names' embeddings, of left-padded indices (T, B). When
    /// <paramref name="everyStep"/> is given, it also receives h_1 … h_T, the partial results after each character.
    /// </summary>
    public Tensor Encode(Tensor chars, ICollection<Tensor>? everyStep = null)
    {
        var (steps, batch) = (chars.shape[0], chars.shape[1]);
        var inputs = InputColumns(chars);                    // (hidden, T, B)
        var h = zeros(W.shape[0], batch, W.dtype);           // (hidden, B)
        for (var t = 0; t < steps; t++)
        {
            h = tanh(inputs.select(1, t).addmm(W, h));       // h_t = tanh(W·h_{t-1} + U·x_t)
            everyStep?.Add(h);
        }
        return h;
    }

    /// <summary>Logits (B, languages) from hidden states (hidden, B): (V·h + c)ᵀ; softmax of them gives y.</summary>
    public Tensor Readout(Tensor h)
    {
        var logits = c is null ? V.matmul(h) : c.addmm(V, h); // (languages, B)
        return logits.T;                                     // (B, languages)
    }

    /// <summary>
    /// U·x_t for every step. U times a one-hot vector is just one column of U, so we gather columns instead of
    /// multiplying one-hot matrices: the same numbers without vocab-sized products. Index 0 (padding) gathers a
    /// zero column: padded steps add nothing.
    /// </summary>
    private Tensor InputColumns(Tensor chars)
    {
        var columns = cat([zeros(U.shape[0], 1, U.dtype), U], dim: 1);          // (hidden, 1 + vocab)
        return columns.index_select(1, chars.flatten()).view(U.shape[0], chars.shape[0], chars.shape[1]);
    }

    /// <summary>A uniformly random orthogonal matrix: Q of the QR decomposition of a Gaussian, signs fixed by R's diagonal.</summary>
    private static Tensor RandomOrthogonal(int size, ScalarType dtype, Generator? random)
    {
        using var scope = NewDisposeScope();
        var (q, r) = linalg.qr(randn(size, size, dtype, generator: random));
        return (q * r.diagonal().sign()).contiguous().MoveToOuterDisposeScope();
    }
}
