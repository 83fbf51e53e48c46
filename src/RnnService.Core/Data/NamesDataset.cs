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
/// <remarks>
/// A <c>supplement</c> folder beside the files may hold more names in the same layout, for training only: they are
/// never split into validation or test names, and they do not count towards the data's mix of languages.
/// </remarks>
public sealed class NamesDataset
{
    /// <summary>The folder inside the data directory that holds supplementary training names.</summary>
    public const string SupplementFolder = "supplement";

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

    /// <summary>Supplementary training names (pairs already among <see cref="Examples"/> left out); empty without a supplement folder.</summary>
    public IReadOnlyList<LabeledName> Supplement { get; private init; } = [];

    /// <summary>SHA-256 of <see cref="Supplement"/>, computed like <see cref="Fingerprint"/>; null without a supplement folder.</summary>
    public string? SupplementFingerprint { get; private init; }

    public static NamesDataset Load(string directory)
    {
        var files = Directory.GetFiles(directory, "*.txt").Order(StringComparer.Ordinal).ToArray();
        if (files.Length < 2)
        {
            throw new InvalidDataException($"Expected one <Language>.txt per language in '{directory}', found {files.Length} file(s).");
        }
        var languages = files.Select(Path.GetFileNameWithoutExtension).Select(name => name!).ToArray();
        var dataset = FromExamples(languages, files.SelectMany((file, language) => ReadNames(file, language)));
        var supplementDirectory = Path.Combine(directory, SupplementFolder);
        if (!Directory.Exists(supplementDirectory)) return dataset;

        var supplement = new List<LabeledName>();
        foreach (var file in Directory.GetFiles(supplementDirectory, "*.txt"))
        {
            var language = Array.IndexOf(languages, Path.GetFileNameWithoutExtension(file));
            if (language < 0)
            {
                throw new InvalidDataException($"Supplementary names '{file}' name a language the data set does not have (expected one of {string.Join(", ", languages)}).");
            }
            supplement.AddRange(ReadNames(file, language));
        }
        var known = dataset.Examples.ToHashSet();
        var added = Sorted(supplement.Where(example => !known.Contains(example)));
        return new NamesDataset(languages, dataset.Examples, dataset.Fingerprint) { Supplement = added, SupplementFingerprint = FingerprintOf(languages, added) };
    }

    public static NamesDataset FromExamples(IReadOnlyList<string> languages, IEnumerable<LabeledName> examples)
    {
        var distinct = Sorted(examples);
        return new NamesDataset(languages, distinct, FingerprintOf(languages, distinct));
    }

    private static IEnumerable<LabeledName> ReadNames(string file, int language) =>
        File.ReadLines(file, Encoding.UTF8).Select(NameNormalizer.Normalize).Where(name => name.Length > 0).Select(name => new LabeledName(name, language));

    /// <summary>Distinct and sorted, so that the order of lines in the files changes neither the examples nor the fingerprint.</summary>
    private static LabeledName[] Sorted(IEnumerable<LabeledName> examples) =>
        examples.Distinct().OrderBy(example => example.Language).ThenBy(example => example.Name, StringComparer.Ordinal).ToArray();

    private static string FingerprintOf(IReadOnlyList<string> languages, IEnumerable<LabeledName> examples)
    {
        var hash = new StringBuilder();
        foreach (var example in examples)
        {
            hash.Append(languages[example.Language]).Append('\t').Append(example.Name).Append('\n');
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(hash.ToString())));
    }
}
