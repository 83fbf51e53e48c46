using RnnService.Core.Data;
using RnnService.Core.Training;

namespace RnnService.Tests.Shared;

/// <summary>Small synthetic data sets whose language is decided by the name's ending, so a tiny RNN learns them in seconds.</summary>
internal static class TestData
{
    public static readonly string[] Languages = ["Italian", "Russian", "Spanish"];
    private static readonly string[] Endings = ["ini", "ov", "ez"];

    /// <param name="namesOfEach">Names per language, in <see cref="Languages"/> order, for an imbalanced set; else <paramref name="namesPerLanguage"/> of each.</param>
    public static NamesDataset Dataset(int namesPerLanguage = 60, int seed = 7, IReadOnlyList<int>? namesOfEach = null)
    {
        var random = new Random(seed);
        var examples = new List<LabeledName>();
        for (var language = 0; language < Languages.Length; language++)
        {
            for (var i = 0; i < (namesOfEach?[language] ?? namesPerLanguage); i++)
            {
                examples.Add(new LabeledName(RandomStem(random) + Endings[language], language));
            }
        }
        return NamesDataset.FromExamples(Languages, examples);
    }

    public static DatasetSplit Split(int namesPerLanguage = 60) => DatasetSplit.Create(Dataset(namesPerLanguage), 0.2, 0.2, seed: 3);

    /// <summary>Writes the data set as one Language.txt per language, the way data/names is laid out.</summary>
    public static string WriteDirectory(TemporaryDirectory directory, int namesPerLanguage = 60, IReadOnlyList<int>? namesOfEach = null)
    {
        var dataset = Dataset(namesPerLanguage, namesOfEach: namesOfEach);
        for (var language = 0; language < Languages.Length; language++)
        {
            var names = dataset.Examples.Where(example => example.Language == language).Select(example => Capitalize(example.Name));
            File.WriteAllLines(Path.Combine(directory.Path, Languages[language] + ".txt"), names);
        }
        return directory.Path;
    }

    public static TrainingConfig TinyConfig => new()
    {
        HiddenSize = 16,
        Epochs = 15,
        BatchSize = 16,
        LearningRate = 0.02,
        EarlyStoppingPatience = 0,
        ValidationFraction = 0.2,
        TestFraction = 0.2,
        SplitSeed = 3,
        Members = 1,     // one RNN keeps tiny runs quick; ensembles have tests of their own
    };

    private static string RandomStem(Random random)
    {
        const string consonants = "bcdfgklmnprstvz", vowels = "aeiou";
        var length = random.Next(1, 4);
        var stem = new char[length * 2];
        for (var i = 0; i < length; i++)
        {
            stem[2 * i] = consonants[random.Next(consonants.Length)];
            stem[2 * i + 1] = vowels[random.Next(vowels.Length)];
        }
        return new string(stem);
    }

    private static string Capitalize(string name) => char.ToUpperInvariant(name[0]) + name[1..];
}

/// <summary>A folder under the system temp folder, deleted with everything in it on dispose.</summary>
internal sealed class TemporaryDirectory : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("rnnservice-tests-").FullName;

    public void Dispose()
    {
        if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
    }
}
