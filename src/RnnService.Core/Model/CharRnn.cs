using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RnnService.Core.Model;

/// <summary>
/// A vanilla character-level RNN built from explicit tensors:
/// <code>
///   h_t = tanh(W·h_{t-1} + U·x_t)    h_0 = 0, x_t = the inputs of step t (one-hot of character t, see below)
///   y   = softmax(V·h_T + c)          h_T is the name's embedding
/// </code>
/// W (hidden×hidden) carries the state from one character to the next, U (hidden×inputs) brings a character in,
/// V (languages×hidden) reads the languages out of the final state.
/// </summary>
/// <remarks>
/// <para>Options recorded in the <see cref="RnnArchitecture"/>, each still an Elman RNN: begin/end-of-name symbols
/// (two more columns of U); hashed character bigrams and trigrams (more columns of U, so x_t is multi-hot; see
/// <see cref="InputFeatures"/>); and a second RNN (Ur, Wr) reading the name right to left, with V reading both final
/// states, [h_T; h'_T] (V is languages×2·hidden).</para>
/// <para>Sums are written as <c>addmm</c>, which takes its coefficients as plain numbers: <c>a + b</c> would hand LibTorch a
/// temporary <see cref="Scalar"/> (alpha = 1) that the garbage collector may free while native code reads it.</para>
/// There is deliberately no recurrent bias b: with one-hot inputs, b would add the same vector to every column of U,
/// which U learns on its own. Leaving it out keeps h at exactly 0 through zero-vector padding, so a batch padded on
/// the left runs all names in lock-step and still ends in each name's exact final state, without masks.
/// </remarks>
public sealed class CharRnn : nn.Module<Tensor, Tensor>
{
    // Parameters in the order the forward pass uses them. Short math names, as in the equations above.
    private readonly Parameter U;   // (hidden, inputs)                 input → hidden
    private readonly Parameter W;   // (hidden, hidden)                 hidden → hidden
    private readonly Parameter? Ur; // (hidden, inputs)                 input → hidden, right to left (bidirectional only)
    private readonly Parameter? Wr; // (hidden, hidden)                 hidden → hidden, right to left (bidirectional only)
    private readonly Parameter V;   // (languages, directions·hidden)   hidden → output
    private readonly Parameter? c;  // (languages, 1)                   output bias, optional

    public CharRnn(RnnArchitecture architecture, RnnInitialization initialization = RnnInitialization.Orthogonal, Generator? random = null)
        : base(nameof(CharRnn))
    {
        ArgumentNullException.ThrowIfNull(architecture);
        Architecture = architecture;
        var (hidden, languages, dtype) = (architecture.HiddenSize, architecture.LanguageCount, architecture.DType);
        var readFrom = architecture.Directions * hidden;
        U = new Parameter(InputWeights(architecture, random));
        if (initialization == RnnInitialization.Identity)
        {
            W = new Parameter(eye(hidden, dtype: dtype));
            V = new Parameter(randn(languages, readFrom, dtype, generator: random));
        }
        else
        {
            using var rootReadFrom = Math.Sqrt(readFrom).ToScalar();
            W = new Parameter(RandomOrthogonal(hidden, dtype, random));                                  // keeps ‖h‖ step to step
            V = new Parameter(randn(languages, readFrom, dtype, generator: random).div_(rootReadFrom));     // logits of O(1)
        }
        c = architecture.OutputBias ? new Parameter(zeros(languages, 1, dtype)) : null;
        if (architecture.Bidirectional)
        {
            Ur = new Parameter(InputWeights(architecture, random));
            Wr = new Parameter(initialization == RnnInitialization.Identity ? eye(hidden, dtype: dtype) : RandomOrthogonal(hidden, dtype, random));
        }
        RegisterComponents();
    }

    public RnnArchitecture Architecture { get; }

    /// <summary>Language logits (B, languages) of a batch packed by <see cref="LeftPadding"/>.</summary>
    public override Tensor forward(Tensor inputs) => Readout(Encode(inputs));

    /// <summary>
    /// Final hidden states H (directions·hidden, B), the names' embeddings, of a batch packed by <see cref="LeftPadding"/>:
    /// features (directions, T, B, features per step), or plain character indices (T, B) for a model without the
    /// options. When <paramref name="everyStep"/> is given, it also receives the left-to-right h_1 … h_T.
    /// </summary>
    public Tensor Encode(Tensor inputs, ICollection<Tensor>? everyStep = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.dim() == 2) inputs = inputs.view(1, inputs.shape[0], inputs.shape[1], 1);
        var h = Recur(U, W, inputs[0], everyStep);                           // (hidden, B)
        return Ur is null || Wr is null ? h : cat([h, Recur(Ur, Wr, inputs[1], null)], 0);
    }

    /// <summary>Logits (B, languages) from hidden states (directions·hidden, B): (V·h + c)ᵀ; softmax of them gives y.</summary>
    public Tensor Readout(Tensor h)
    {
        var logits = c is null ? V.matmul(h) : c.addmm(V, h); // (languages, B)
        return logits.T;                                     // (B, languages)
    }

    /// <summary>One direction's recurrence over features (T, B, per step); returns h_T (hidden, B).</summary>
    private static Tensor Recur(Tensor u, Tensor w, Tensor features, ICollection<Tensor>? everyStep)
    {
        var (steps, batch) = (features.shape[0], features.shape[1]);
        var inputs = InputColumns(u, features);              // (hidden, T, B)
        var h = zeros(w.shape[0], batch, w.dtype);           // (hidden, B)
        for (var t = 0; t < steps; t++)
        {
            h = tanh(inputs.select(1, t).addmm(w, h));       // h_t = tanh(W·h_{t-1} + U·x_t)
            everyStep?.Add(h);
        }
        return h;
    }

    /// <summary>
    /// U·x_t for every step. x_t is one-hot (or multi-hot with n-grams), so U·x_t is a sum of columns of U: we
    /// gather columns instead of multiplying by x_t, the same numbers without input-sized products. Index 0
    /// (padding, or a missing n-gram) gathers a zero column and adds nothing.
    /// </summary>
    private static Tensor InputColumns(Tensor u, Tensor features)
    {
        var (hidden, steps, batch) = (u.shape[0], features.shape[0], features.shape[1]);
        var columns = cat([zeros(hidden, 1, u.dtype), u], dim: 1);                                  // (hidden, 1 + inputs)
        var gathered = columns.index_select(1, features.flatten()).view(hidden, steps, batch, -1);  // (hidden, T, B, per step)
        return gathered.shape[3] == 1 ? gathered.squeeze(3) : gathered.sum(3);
    }

    /// <summary>U drawn from a standard normal, so a character moves h by O(1); divided by √(features per step) with n-grams.</summary>
    private static Tensor InputWeights(RnnArchitecture architecture, Generator? random)
    {
        var weights = randn(architecture.HiddenSize, architecture.InputSize, architecture.DType, generator: random);
        var perStep = InputFeatures.PerStep(architecture);
        if (perStep == 1) return weights;
        using var rootPerStep = Math.Sqrt(perStep).ToScalar();
        return weights.div_(rootPerStep);
    }

    /// <summary>
    /// One RNN that answers the mean of <paramref name="members"/>' logits: an ensemble of Elman RNNs is itself an Elman
    /// RNN, whose state stacks the members' states. Its W is block-diagonal (no member reads another's state), U stacks
    /// the members' U, V places each member's V beside the others' divided by their number, and c is their mean.
    /// The members must share everything but the hidden size.
    /// </summary>
    public static CharRnn Ensemble(IReadOnlyList<CharRnn> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0) throw new ArgumentException("An ensemble needs at least one member.", nameof(members));
        var first = members[0].Architecture;
        if (members.Any(member => member.Architecture with { HiddenSize = first.HiddenSize } != first))
        {
            throw new ArgumentException("Members must share every setting of their architecture but the hidden size.", nameof(members));
        }
        var ensemble = new CharRnn(first with { HiddenSize = members.Sum(member => member.Architecture.HiddenSize) });
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var share = (1.0 / members.Count).ToScalar();
        ensemble.U.copy_(cat(members.Select(member => (Tensor)member.U).ToArray(), 0));                // (Σ hidden, inputs)
        ensemble.W.copy_(block_diag(members.Select(member => (Tensor)member.W).ToArray()));             // (Σ hidden, Σ hidden)
        if (ensemble.Ur is not null && ensemble.Wr is not null)
        {
            ensemble.Ur.copy_(cat(members.Select(member => (Tensor)member.Ur!).ToArray(), 0));
            ensemble.Wr.copy_(block_diag(members.Select(member => (Tensor)member.Wr!).ToArray()));
        }
        // V reads [h; h'] with h = [h¹; …; hᴷ]: each direction's columns of every member, in that order.
        var readouts = Enumerable.Range(0, first.Directions)
            .SelectMany(d => members.Select(member => member.V.narrow(1, d * member.Architecture.HiddenSize, member.Architecture.HiddenSize)))
            .ToArray();
        ensemble.V.copy_(cat(readouts, 1).mul_(share));                                                 // (languages, directions·Σ hidden)
        ensemble.c?.copy_(stack(members.Select(member => (Tensor)member.c!).ToArray()).mean([0]));
        return ensemble;
    }

    /// <summary>A uniformly random orthogonal matrix: Q of the QR decomposition of a Gaussian, signs fixed by R's diagonal.</summary>
    private static Tensor RandomOrthogonal(int size, ScalarType dtype, Generator? random)
    {
        using var scope = NewDisposeScope();
        var (q, r) = linalg.qr(randn(size, size, dtype, generator: random));
        return (q * r.diagonal().sign()).contiguous().MoveToOuterDisposeScope();
    }
}
