using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using RnnService.Core.Data;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace RnnService.Core.Model;

/// <summary>
/// A managed, allocation-free inference path for a trained <see cref="CharRnn"/>: the same math
/// (h_t = tanh(W·h_{t-1} + U·x_t), h_0 = 0, probabilities = softmax((V·h_T + c) / temperature), with the options of
/// its <see cref="RnnArchitecture"/>: boundary marks, n-gram columns, a right-to-left RNN) on plain float arrays, with
/// SIMD matrix-vector products and <see cref="TensorPrimitives"/> for tanh and the softmax.
/// </summary>
/// <remarks>
/// Why it exists: one short name is a few 128×128 matrix-vector products, a few microseconds of arithmetic, while the
/// TorchSharp forward pass pays a native call and a tensor handle for every operation of every step, so for one name
/// (and even for batches) the per-op overhead, not the math, dominates. This class copies the weights once and runs the
/// recurrence in managed code with its scratch state on the stack. W·h is a hand-written SIMD loop over Wᵀ (1.5–2.5×
/// faster than one <see cref="TensorPrimitives.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/> per row of W).
/// <see cref="CharRnn"/> stays the source of truth: training, saving, loading and <see cref="NameClassifier.Explain"/>
/// use it, and the tests hold this path to its probabilities (within 1e-5). Build one per loaded model version; it is
/// immutable, thread-safe and holds no native memory. Weights are kept as float32, also for a Float64 model.
/// </remarks>
public sealed class FastRnn
{
    /// <summary>Largest padded hidden size whose scratch state lives on the stack; larger ones rent from the array pool.</summary>
    private const int StackHidden = 512;

    /// <summary>Longest name encoded on the stack by the string overloads; longer ones rent from the array pool.</summary>
    private const int StackName = 256;

    /// <summary>
    /// Outputs one pass of <see cref="MultiplyAccumulate"/> computes: eight SIMD vectors, of 512 bits where the hardware
    /// has them, so one pass covers hidden size 128 and reads Wᵀ once, front to back (20 % faster than two passes of four).
    /// </summary>
    private static readonly int Block = 8 * (Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector<float>.Count);

    // U and W are stored transposed (input-major), so U·x_t is a sum of contiguous rows and W·h adds h_j times row j
    // for each j, with the hidden units padded with zeros to whole blocks; padded units of h stay at tanh(0) = 0. V is
    // small (languages × directions·hidden, in L1), so the readout is one dot product per language and direction.
    private readonly int paddedHidden;     // HiddenSize rounded up to a multiple of Block
    private readonly int perStep;          // input features per step (InputFeatures.PerStep)
    private readonly float[][] inputRows;  // per direction, (1 + inputs) × paddedHidden: row k is column k of [0 | U]; row 0 is zero
    private readonly float[][] recurrent;  // per direction, HiddenSize × paddedHidden: row j is column j of W
    private readonly float[] readout;      // LanguageCount × (directions · HiddenSize): V, row-major
    private readonly float[]? bias;        // LanguageCount: c, or null without an output bias

    public FastRnn(CharRnn model)
    {
        ArgumentNullException.ThrowIfNull(model);
        Architecture = model.Architecture;
        (HiddenSize, VocabularySize, LanguageCount) = (Architecture.HiddenSize, Architecture.VocabularySize, Architecture.LanguageCount);
        paddedHidden = RoundUp(HiddenSize);
        perStep = InputFeatures.PerStep(Architecture);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter, StringComparer.Ordinal);
        // Parameter `name`, of shape (rows, columns), as float32, row-major.
        float[] Values(string name, int rows, int columns)
        {
            if (!parameters.TryGetValue(name, out var parameter)) throw new ArgumentException($"The model has no parameter '{name}'.", nameof(model));
            if (!parameter.shape.SequenceEqual([rows, columns]))
            {
                throw new ArgumentException($"Parameter '{name}' has shape [{string.Join(", ", parameter.shape)}], expected [{rows}, {columns}].", nameof(model));
            }
            return parameter.detach().to(ScalarType.Float32).contiguous().data<float>().ToArray();
        }

        string[] directions = Architecture.Bidirectional ? ["", "r"] : [""];
        var inputs = Architecture.InputSize;
        inputRows = directions.Select(d => Transposed(Values("U" + d, HiddenSize, inputs), HiddenSize, inputs, paddedHidden, leadingZeroRow: true)).ToArray();
        recurrent = directions.Select(d => Transposed(Values("W" + d, HiddenSize, HiddenSize), HiddenSize, HiddenSize, paddedHidden, leadingZeroRow: false)).ToArray();
        readout = Values("V", LanguageCount, directions.Length * HiddenSize);
        bias = Architecture.OutputBias ? Values("c", LanguageCount, 1) : null;
    }

    public RnnArchitecture Architecture { get; }
    public int HiddenSize { get; }

    /// <summary>Input symbols (unknown plus known characters); valid indices run from 0 (padding) to this, inclusive.</summary>
    public int VocabularySize { get; }

    public int LanguageCount { get; }

    /// <summary>
    /// Language probabilities softmax((V·h_T + c) / <paramref name="temperature"/>) of one encoded name (indices from
    /// <see cref="Vocabulary.Encode"/>; leading padding 0s change nothing) into <paramref name="probabilities"/>
    /// (length <see cref="LanguageCount"/>), in the model's language order. Allocates nothing on the managed heap.
    /// </summary>
    public void Predict(ReadOnlySpan<int> encodedName, Span<double> probabilities, double temperature = 1)
    {
        CheckTemperature(temperature);
        Logits(encodedName, probabilities);
        Softmax(probabilities, temperature);
    }

    /// <summary>
    /// <see cref="Predict(ReadOnlySpan{int}, Span{double}, double)"/> of one normalised name, encoded on the stack with
    /// <paramref name="vocabulary"/> (the model's own). Allocates nothing on the managed heap.
    /// </summary>
    public void Predict(string normalizedName, Vocabulary vocabulary, Span<double> probabilities, double temperature = 1)
    {
        CheckTemperature(temperature);
        Logits(normalizedName, vocabulary, probabilities);
        Softmax(probabilities, temperature);
    }

    /// <summary>
    /// The logits V·h_T + c of one encoded name into <paramref name="logits"/> (length <see cref="LanguageCount"/>):
    /// the output before temperature and softmax, for callers that adjust it first. Allocates nothing on the managed heap.
    /// </summary>
    public void Logits(ReadOnlySpan<int> encodedName, Span<double> logits)
    {
        if (logits.Length != LanguageCount) throw new ArgumentException($"Needs room for exactly {LanguageCount} logits.", nameof(logits));
        foreach (var index in encodedName)
        {
            if ((uint)index > (uint)VocabularySize)
            {
                throw new ArgumentOutOfRangeException(nameof(encodedName), index, $"Input indices run from 0 (padding) to {VocabularySize}.");
            }
        }
        var leadingPadding = encodedName.IndexOfAnyExcept(Vocabulary.Padding);
        var chars = leadingPadding < 0 ? [] : encodedName[leadingPadding..];    // leading padding is a no-op: tanh(W·0 + 0) = 0

        var hiddenLength = Architecture.Directions * paddedHidden;
        var featureLength = InputFeatures.Steps(Architecture, chars.Length) * perStep;
        float[]? rentedHidden = null;
        int[]? rentedFeatures = null;
        Span<float> scratch = paddedHidden <= StackHidden
            ? stackalloc float[hiddenLength + paddedHidden]
            : rentedHidden = ArrayPool<float>.Shared.Rent(hiddenLength + paddedHidden);
        Span<int> features = featureLength <= 3 * StackName ? stackalloc int[featureLength] : rentedFeatures = ArrayPool<int>.Shared.Rent(featureLength);
        try
        {
            var h = scratch[..hiddenLength];                                       // h_T of each direction, one after the other
            var next = scratch.Slice(hiddenLength, paddedHidden);
            for (var d = 0; d < Architecture.Directions; d++)
            {
                InputFeatures.Write(Architecture, chars, reversed: d == 1, features[..featureLength]);
                Encode(d, features[..featureLength], h.Slice(d * paddedHidden, paddedHidden), next);
            }
            Readout(h, logits);
        }
        finally
        {
            if (rentedHidden is not null) ArrayPool<float>.Shared.Return(rentedHidden);
            if (rentedFeatures is not null) ArrayPool<int>.Shared.Return(rentedFeatures);
        }
    }

    /// <summary>
    /// <see cref="Logits(ReadOnlySpan{int}, Span{double})"/> of one normalised name, encoded on the stack with
    /// <paramref name="vocabulary"/> (the model's own). Allocates nothing on the managed heap.
    /// </summary>
    public void Logits(string normalizedName, Vocabulary vocabulary, Span<double> logits)
    {
        ArgumentNullException.ThrowIfNull(normalizedName);
        ArgumentNullException.ThrowIfNull(vocabulary);
        int[]? rented = null;
        Span<int> encoded = normalizedName.Length <= StackName
            ? stackalloc int[normalizedName.Length]
            : rented = ArrayPool<int>.Shared.Rent(normalizedName.Length);
        try
        {
            encoded = encoded[..normalizedName.Length];
            for (var i = 0; i < encoded.Length; i++) encoded[i] = vocabulary.IndexOf(normalizedName[i]);
            Logits(encoded, logits);
        }
        finally
        {
            if (rented is not null) ArrayPool<int>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Language probabilities of each normalised name, in the model's language order, one array per name: the numbers
    /// <see cref="NameClassifier.Predict"/> gives at the same temperature. Names are independent, so there is no padding.
    /// </summary>
    public double[][] Predict(IReadOnlyList<string> normalizedNames, Vocabulary vocabulary, double temperature = 1)
    {
        ArgumentNullException.ThrowIfNull(normalizedNames);
        var results = new double[normalizedNames.Count][];
        for (var b = 0; b < results.Length; b++)
        {
            results[b] = new double[LanguageCount];
            Predict(normalizedNames[b], vocabulary, results[b], temperature);
        }
        return results;
    }

    /// <summary>
    /// After each character of one normalised name: the hidden state (h_t, or with a right-to-left RNN both
    /// directions' final states over the prefix, one after the other) and the logits if the name ended there. Each step
    /// runs the very code of <see cref="Logits(ReadOnlySpan{int}, Span{double})"/> on the prefix read so far, so the last
    /// step is exactly the name's logits. Quadratic in the name's length, which validation keeps short.
    /// </summary>
    public (float[] Hidden, double[] Logits)[] Explain(string normalizedName, Vocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(normalizedName);
        ArgumentNullException.ThrowIfNull(vocabulary);
        var encoded = vocabulary.Encode(normalizedName);
        var steps = new (float[] Hidden, double[] Logits)[encoded.Length];
        var h = new float[Architecture.Directions * paddedHidden];
        var next = new float[paddedHidden];
        for (var t = 0; t < encoded.Length; t++)
        {
            var features = new int[InputFeatures.Steps(Architecture, t + 1) * perStep];
            var hidden = new float[Architecture.Directions * HiddenSize];
            for (var d = 0; d < Architecture.Directions; d++)
            {
                InputFeatures.Write(Architecture, encoded.AsSpan(0, t + 1), reversed: d == 1, features);
                Encode(d, features, h.AsSpan(d * paddedHidden, paddedHidden), next);
                h.AsSpan(d * paddedHidden, HiddenSize).CopyTo(hidden.AsSpan(d * HiddenSize));
            }
            var logits = new double[LanguageCount];
            Readout(h, logits);
            steps[t] = (hidden, logits);
        }
        return steps;
    }

    /// <summary>
    /// h_T of direction <paramref name="direction"/> over a name's <see cref="InputFeatures"/> into <paramref name="h"/>;
    /// <paramref name="next"/> is scratch of the same (padded) length.
    /// </summary>
    private void Encode(int direction, ReadOnlySpan<int> features, Span<float> h, Span<float> next)
    {
        ReadOnlySpan<float> inputs = inputRows[direction];
        h.Clear();                                                                 // h_0 = 0
        for (var t = 0; t < features.Length; t += perStep)
        {
            inputs.Slice(features[t] * paddedHidden, paddedHidden).CopyTo(next);  // U·x_t: one row of Uᵀ per feature
            for (var f = 1; f < perStep; f++)
            {
                if (features[t + f] != 0) TensorPrimitives.Add(next, inputs.Slice(features[t + f] * paddedHidden, paddedHidden), next);
            }
            if (t > 0) MultiplyAccumulate(recurrent[direction], h[..HiddenSize], next);   // + W·h_{t-1}, which is 0 at t = 1
            TensorPrimitives.Tanh(next, h);                                        // h_t
        }
    }

    /// <summary>
    /// y += M·x for M stored transposed (row j of <paramref name="transposed"/> is column j of M, |y| floats, |y| a
    /// multiple of <see cref="Block"/>). Each pass keeps eight vectors of outputs in registers, eight independent
    /// multiply-add chains (enough to hide their latency), and streams M's rows in memory order.
    /// </summary>
    private static void MultiplyAccumulate(float[] transposed, ReadOnlySpan<float> x, Span<float> y)
    {
        if (y.Length % Block != 0 || transposed.Length < x.Length * y.Length) throw new ArgumentException("Matrix and vectors do not fit.", nameof(transposed));
        if (Vector512.IsHardwareAccelerated) MultiplyAccumulate512(transposed, x, y);
        else MultiplyAccumulateVector(transposed, x, y);
    }

    private static void MultiplyAccumulate512(float[] transposed, ReadOnlySpan<float> x, Span<float> y)
    {
        var n = y.Length;
        ref var m = ref MemoryMarshal.GetArrayDataReference(transposed);
        ref var output = ref MemoryMarshal.GetReference(y);
        var w = (nuint)Vector512<float>.Count;
        for (var i = 0; i < n; i += Block)
        {
            var start = (nuint)i;
            var a0 = Vector512.LoadUnsafe(ref output, start);
            var a1 = Vector512.LoadUnsafe(ref output, start + w);
            var a2 = Vector512.LoadUnsafe(ref output, start + 2 * w);
            var a3 = Vector512.LoadUnsafe(ref output, start + 3 * w);
            var a4 = Vector512.LoadUnsafe(ref output, start + 4 * w);
            var a5 = Vector512.LoadUnsafe(ref output, start + 5 * w);
            var a6 = Vector512.LoadUnsafe(ref output, start + 6 * w);
            var a7 = Vector512.LoadUnsafe(ref output, start + 7 * w);
            for (var j = 0; j < x.Length; j++)
            {
                var xj = Vector512.Create(x[j]);
                var row = (nuint)(j * n) + start;
                a0 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref m, row), xj, a0);
                a1 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref m, row + w), xj, a1);
                a2 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref m, row + 2 * w), xj, a2);
                a3 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref m, row + 3 * w), xj, a3);
                a4 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref m, row + 4 * w), xj, a4);
                a5 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref m, row + 5 * w), xj, a5);
                a6 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref m, row + 6 * w), xj, a6);
                a7 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref m, row + 7 * w), xj, a7);
            }
            a0.StoreUnsafe(ref output, start);
            a1.StoreUnsafe(ref output, start + w);
            a2.StoreUnsafe(ref output, start + 2 * w);
            a3.StoreUnsafe(ref output, start + 3 * w);
            a4.StoreUnsafe(ref output, start + 4 * w);
            a5.StoreUnsafe(ref output, start + 5 * w);
            a6.StoreUnsafe(ref output, start + 6 * w);
            a7.StoreUnsafe(ref output, start + 7 * w);
        }
    }

    /// <summary>The same with <see cref="Vector{T}"/> (256 bits on AVX2, 128 on Arm64) where 512 bits are not accelerated.</summary>
    private static void MultiplyAccumulateVector(float[] transposed, ReadOnlySpan<float> x, Span<float> y)
    {
        var n = y.Length;
        ref var m = ref MemoryMarshal.GetArrayDataReference(transposed);
        ref var output = ref MemoryMarshal.GetReference(y);
        var w = (nuint)Vector<float>.Count;
        for (var i = 0; i < n; i += Block)
        {
            var start = (nuint)i;
            var a0 = Vector.LoadUnsafe(ref output, start);
            var a1 = Vector.LoadUnsafe(ref output, start + w);
            var a2 = Vector.LoadUnsafe(ref output, start + 2 * w);
            var a3 = Vector.LoadUnsafe(ref output, start + 3 * w);
            var a4 = Vector.LoadUnsafe(ref output, start + 4 * w);
            var a5 = Vector.LoadUnsafe(ref output, start + 5 * w);
            var a6 = Vector.LoadUnsafe(ref output, start + 6 * w);
            var a7 = Vector.LoadUnsafe(ref output, start + 7 * w);
            for (var j = 0; j < x.Length; j++)
            {
                var xj = new Vector<float>(x[j]);
                var row = (nuint)(j * n) + start;
                a0 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref m, row), xj, a0);
                a1 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref m, row + w), xj, a1);
                a2 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref m, row + 2 * w), xj, a2);
                a3 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref m, row + 3 * w), xj, a3);
                a4 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref m, row + 4 * w), xj, a4);
                a5 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref m, row + 5 * w), xj, a5);
                a6 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref m, row + 6 * w), xj, a6);
                a7 = Vector.MultiplyAddEstimate(Vector.LoadUnsafe(ref m, row + 7 * w), xj, a7);
            }
            a0.StoreUnsafe(ref output, start);
            a1.StoreUnsafe(ref output, start + w);
            a2.StoreUnsafe(ref output, start + 2 * w);
            a3.StoreUnsafe(ref output, start + 3 * w);
            a4.StoreUnsafe(ref output, start + 4 * w);
            a5.StoreUnsafe(ref output, start + 5 * w);
            a6.StoreUnsafe(ref output, start + 6 * w);
            a7.StoreUnsafe(ref output, start + 7 * w);
        }
    }

    /// <summary>
    /// The logits V·h + c into <paramref name="logits"/>, in double precision after the products; <paramref name="h"/>
    /// holds each direction's final state, padded to whole blocks.
    /// </summary>
    private void Readout(ReadOnlySpan<float> h, Span<double> logits)
    {
        ReadOnlySpan<float> v = readout;
        var rowLength = Architecture.Directions * HiddenSize;
        for (var k = 0; k < logits.Length; k++)
        {
            double logit = bias is null ? 0 : bias[k];
            for (var d = 0; d < Architecture.Directions; d++)
            {
                logit += TensorPrimitives.Dot(v.Slice(k * rowLength + d * HiddenSize, HiddenSize), h.Slice(d * paddedHidden, HiddenSize));
            }
            logits[k] = logit;
        }
    }

    /// <summary>softmax(values / temperature), in place.</summary>
    public static void Softmax(Span<double> probabilities, double temperature)
    {
        if (temperature != 1) TensorPrimitives.Divide(probabilities, temperature, probabilities);
        var max = TensorPrimitives.Max<double>(probabilities);
        TensorPrimitives.Subtract(probabilities, max, probabilities);              // exp never overflows
        TensorPrimitives.Exp(probabilities, probabilities);
        TensorPrimitives.Divide(probabilities, TensorPrimitives.Sum<double>(probabilities), probabilities);
    }

    /// <summary>
    /// The transpose of a row-major (rows × columns) matrix: column j becomes row j, padded with zeros to
    /// <paramref name="paddedRows"/> values, optionally after an all-zero first row.
    /// </summary>
    private static float[] Transposed(float[] matrix, int rows, int columns, int paddedRows, bool leadingZeroRow)
    {
        var first = leadingZeroRow ? 1 : 0;
        var transposed = new float[(first + columns) * paddedRows];
        for (var i = 0; i < rows; i++)
        {
            for (var j = 0; j < columns; j++) transposed[(first + j) * paddedRows + i] = matrix[i * columns + j];
        }
        return transposed;
    }

    private static void CheckTemperature(double temperature)
    {
        if (!(temperature > 0) || double.IsInfinity(temperature)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "Must be positive and finite.");
    }

    private static int RoundUp(int size) => (size + Block - 1) / Block * Block;
}
