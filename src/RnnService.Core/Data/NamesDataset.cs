using System.Security.Cryptography;
using System.Text;

namespace RnnService.Core.Data;

/// <summary>A normalised name and the index of one language it belongs to.</summary>
public readonly record struct LabeledName(string Name, int Language);

/// <summary>
/// The names data set: one <c>Language.txt</c> per language, one name per line. Names are normalised, empty lines
/// dropped and duplicate (name, language) pairs removed; a name listed under several languages stays one example per
/// language, because the true answer is ambiguous and the model should learn to spread its probability.
/// </summary>
public sealed class NamesDataset
{
    private NamesDataset(IReadOnlyList<string> languages, IReadOnlyList<LabeledName> examples, string fingerprint)
    {
        Languages = languages;
        Examples = examples;
        Fingerprint = fingerprint;
    }

    /// <summary>Language names, sorted; an example's <see cref="LabeledName.Language"/> indexes this list.</summary>
    public IReadOnlyList<string> Languages { get; }

    public IReadOnlyList<LabeledName> Examples { get; }

    /// <summary>SHA-256 over the normalised, deduplicated examples: equal fingerprints mean equal training data.</summary>
    public string Fingerprint { get; }

    public static NamesDataset Load(string directory)
    {
        var files = Directory.GetFiles(directory, "*.txt").Order(StringComparer.Ordinal).ToArray();
        if (files.Length < 2)
        {
            throw new InvalidDataException($"Expected one <Language>.txt per language in '{directory}', found {files.Length} file(s).");
        }
        var languages = files.Select(Path.GetFileNameWithoutExtension).Select(name => name!).ToArray();
        var examples = new List<LabeledName>();
        for (var language = 0; language < files.Length; language++)
        {
            var names = File.ReadLines(files[language], Encoding.UTF8)
                .Select(NameNormalizer.Normalize)
                .Where(name => name.Length > 0);
            examples.AddRange(names.Select(name => new LabeledName(name, language)));
        }
        return FromExamples(languages, examples);
    }

    public static NamesDataset FromExamples(IReadOnlyList<string> languages, IEnumerable<LabeledName> examples)
    {
        // Sorted, so that the order of lines in the files changes neither the examples nor the fingerprint.
        var distinct = examples.Distinct().OrderBy(example => example.Language).ThenBy(example => example.Name, StringComparer.Ordinal).ToArray();
        var hash = new StringBuilder();
        foreach (var example in distinct)
        {
            hash.Append(languages[example.Language]).Append('\t').Append(example.Name).Append('\n');
        }
        var fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(hash.ToString())));
        return new NamesDataset(languages, distinct, fingerprint);
    }
}
