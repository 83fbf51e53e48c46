namespace RnnService.Core.Data;

/// <summary>
/// Maps the characters of normalised names to input indices 1..<see cref="Size"/>: index 1 stands for every character
/// the training names never used (so no input can fail to encode), 2.. for the known characters. Index 0 is padding:
/// no character at all, which the model reads as a zero input vector.
/// </summary>
public sealed class Vocabulary
{
    public const int Padding = 0;
    public const int Unknown = 1;

    private readonly Dictionary<char, int> indexOf;

    public Vocabulary(IEnumerable<char> characters)
    {
        Characters = characters.Distinct().Order().ToArray();
        indexOf = Characters.Select((ch, i) => (ch, index: i + 2)).ToDictionary(pair => pair.ch, pair => pair.index);
    }

    /// <summary>The known characters in index order, starting at index 2.</summary>
    public IReadOnlyList<char> Characters { get; }

    /// <summary>Number of input symbols, unknown plus every known character: the width of the one-hot input.</summary>
    public int Size => Characters.Count + 1;

    public static Vocabulary FromNames(IEnumerable<string> names) => new(names.SelectMany(name => name));

    public int IndexOf(char ch) => indexOf.GetValueOrDefault(ch, Unknown);

    public bool Contains(char ch) => indexOf.ContainsKey(ch);

    /// <summary>Input indices of a normalised name, one per character.</summary>
    public int[] Encode(string normalizedName)
    {
        var indices = new int[normalizedName.Length];
        for (var i = 0; i < indices.Length; i++) indices[i] = IndexOf(normalizedName[i]);
        return indices;
    }
}
