using static TorchSharp.torch;

namespace RnnService.Core.Model;

/// <summary>Packs encoded names into the (T, B) index matrix that <see cref="CharRnn"/> reads.</summary>
public static class LeftPadding
{
    /// <summary>
    /// Column b holds name b's indices, right-aligned, with padding (0) before them: names of different lengths then
    /// finish on the same step, the last one. T is the longest name's length, or <paramref name="minLength"/> if more.
    /// </summary>
    public static Tensor Pack(IReadOnlyList<int[]> names, int minLength = 0)
    {
        var steps = minLength;
        foreach (var name in names) steps = Math.Max(steps, name.Length);
        var indices = new long[steps * names.Count];
        for (var b = 0; b < names.Count; b++)
        {
            var name = names[b];
            var offset = steps - name.Length;
            for (var i = 0; i < name.Length; i++) indices[(offset + i) * names.Count + b] = name[i];
        }
        return tensor(indices, [steps, names.Count]);
    }

    /// <summary>
    /// The (directions, T, B, features per step) input of a model of <paramref name="architecture"/>: each name's
    /// <see cref="InputFeatures"/>, per direction (the second reads the name reversed), right-aligned after zero
    /// features, so every name finishes on the last step. <paramref name="minLength"/> is in characters, as above.
    /// </summary>
    public static Tensor Pack(IReadOnlyList<int[]> names, RnnArchitecture architecture, int minLength = 0)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        var (directions, perStep, batch) = (architecture.Directions, InputFeatures.PerStep(architecture), names.Count);
        var longest = minLength;
        foreach (var name in names) longest = Math.Max(longest, name.Length);
        var steps = InputFeatures.Steps(architecture, longest);
        var indices = new long[directions * steps * batch * perStep];
        var features = new int[steps * perStep];
        for (var d = 0; d < directions; d++)
        {
            for (var b = 0; b < batch; b++)
            {
                var nameSteps = InputFeatures.Steps(architecture, names[b].Length);
                InputFeatures.Write(architecture, names[b], reversed: d == 1, features);
                for (var t = 0; t < nameSteps; t++)
                {
                    var at = ((d * steps + steps - nameSteps + t) * batch + b) * perStep;
                    for (var f = 0; f < perStep; f++) indices[at + f] = features[t * perStep + f];
                }
            }
        }
        return tensor(indices, [directions, steps, batch, perStep]);
    }
}
