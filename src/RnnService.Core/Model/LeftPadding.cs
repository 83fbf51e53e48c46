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
}
