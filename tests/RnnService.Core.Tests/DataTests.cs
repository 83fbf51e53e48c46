using RnnService.Core.Data;

namespace RnnService.Core.Tests;

public class NamesDatasetTests
{
    [Fact]
    public void LoadingNormalizesDropsEmptyLinesAndDuplicatePairsButKeepsNamesOfSeveralLanguages()
    {
        using var directory = new TemporaryDirectory();
        File.WriteAllLines(Path.Combine(directory.Path, "English.txt"), ["Abel", "abel ", "", "  ", "Smith"]);
        File.WriteAllLines(Path.Combine(directory.Path, "French.txt"), ["Abel", "Bélanger"]);

        var dataset = NamesDataset.Load(directory.Path);

        Assert.Equal(["English", "French"], dataset.Languages);
        Assert.Equal(
            [new("abel", 0), new("smith", 0), new("abel", 1), new("bélanger", 1)],
            dataset.Examples.OrderBy(e => e.Language).ThenBy(e => e.Name, StringComparer.Ordinal));
    }

    [Fact]
    public void SupplementaryNamesStayOutOfTheSplitTheFingerprintAndTheHeldOutNames()
    {
        using var directory = new TemporaryDirectory();
        TestData.WriteDirectory(directory);
        var plain = NamesDataset.Load(directory.Path);
        var plainSplit = DatasetSplit.Create(plain, 0.2, 0.2, seed: 3);
        var (training, validation, test) = (plainSplit.Training[0], plainSplit.Validation[0], plainSplit.Test[^1]);
        var supplement = Directory.CreateDirectory(Path.Combine(directory.Path, NamesDataset.SupplementFolder)).FullName;
        // A new name; a pair the data already has; a validation name; a test name under another language.
        File.AppendAllLines(Path.Combine(supplement, TestData.Languages[0] + ".txt"), ["Brandnewini", training.Name, validation.Name]);
        File.AppendAllLines(Path.Combine(supplement, TestData.Languages[(test.Language + 1) % 3] + ".txt"), [test.Name]);
        if (training.Language != 0) File.AppendAllLines(Path.Combine(supplement, TestData.Languages[training.Language] + ".txt"), [training.Name]);

        var dataset = NamesDataset.Load(directory.Path);
        var split = DatasetSplit.Create(dataset, 0.2, 0.2, seed: 3);

        Assert.Equal(plain.Fingerprint, dataset.Fingerprint);
        Assert.Equal(plain.Examples, dataset.Examples);
        Assert.Equal(plainSplit.Training, split.Training);
        Assert.Equal(plainSplit.Validation, split.Validation);
        Assert.Equal(plainSplit.Test, split.Test);
        Assert.DoesNotContain(training, dataset.Supplement);
        Assert.Equal([new LabeledName("brandnewini", 0)], split.Supplement.Where(example => example.Name != training.Name));
        Assert.Empty(split.Supplement.Select(example => example.Name).Intersect(split.Validation.Concat(split.Test).Select(example => example.Name)));
        Assert.Equal(split.Training.Concat(split.Supplement), split.TrainingNames(supplement: true));
        Assert.Equal(split.Training, split.TrainingNames(supplement: false));
        Assert.NotNull(dataset.SupplementFingerprint);
        Assert.Null(plain.SupplementFingerprint);
    }

    [Fact]
    public void SupplementaryNamesOfALanguageTheDataLacksAreRefused()
    {
        using var directory = new TemporaryDirectory();
        TestData.WriteDirectory(directory);
        var supplement = Directory.CreateDirectory(Path.Combine(directory.Path, NamesDataset.SupplementFolder)).FullName;
        File.WriteAllLines(Path.Combine(supplement, "Klingon.txt"), ["Worf"]);

        var error = Assert.Throws<InvalidDataException>(() => NamesDataset.Load(directory.Path));
        Assert.Contains("Klingon.txt", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FingerprintDependsOnContentNotOnLineOrder()
    {
        using var first = new TemporaryDirectory();
        using var second = new TemporaryDirectory();
        File.WriteAllLines(Path.Combine(first.Path, "A.txt"), ["x", "y"]);
        File.WriteAllLines(Path.Combine(first.Path, "B.txt"), ["z"]);
        File.WriteAllLines(Path.Combine(second.Path, "A.txt"), ["Y", "X"]);
        File.WriteAllLines(Path.Combine(second.Path, "B.txt"), ["z"]);

        Assert.Equal(NamesDataset.Load(first.Path).Fingerprint, NamesDataset.Load(second.Path).Fingerprint);

        File.AppendAllLines(Path.Combine(second.Path, "B.txt"), ["w"]);
        Assert.NotEqual(NamesDataset.Load(first.Path).Fingerprint, NamesDataset.Load(second.Path).Fingerprint);
    }

    [Fact]
    public void ShippedDataHasEighteenLanguagesAndTheDocumentedDistinctPairs()
    {
        var dataset = NamesDataset.Load(RepositoryPaths.Data);

        Assert.Equal(18, dataset.Languages.Count);
        // The README counts 18,013 distinct raw (name, language) pairs; lower-casing merges one more.
        Assert.InRange(dataset.Examples.Count, 17_900, 18_013);
    }
}

public class DatasetSplitTests
{
    private static readonly NamesDataset Names = NamesDataset.Load(RepositoryPaths.Data);

    [Fact]
    public void NoNameAppearsInTwoParts()
    {
        var split = DatasetSplit.Create(Names, 0.1, 0.1, seed: 1);

        var training = split.Training.Select(e => e.Name).ToHashSet();
        var validation = split.Validation.Select(e => e.Name).ToHashSet();
        var test = split.Test.Select(e => e.Name).ToHashSet();

        Assert.Empty(training.Intersect(validation));
        Assert.Empty(training.Intersect(test));
        Assert.Empty(validation.Intersect(test));
        Assert.Equal(Names.Examples.Count, split.Training.Count + split.Validation.Count + split.Test.Count);
    }

    [Fact]
    public void SplitIsReproducibleFromItsSeedAndChangesWithIt()
    {
        var first = DatasetSplit.Create(Names, 0.1, 0.1, seed: 5);
        var again = DatasetSplit.Create(Names, 0.1, 0.1, seed: 5);
        var other = DatasetSplit.Create(Names, 0.1, 0.1, seed: 6);

        Assert.Equal(first.Test, again.Test);
        Assert.Equal(first.Validation, again.Validation);
        Assert.NotEqual(first.Test, other.Test);
    }

    [Fact]
    public void EveryLanguageIsRepresentedInEveryPartInProportion()
    {
        var split = DatasetSplit.Create(Names, 0.1, 0.1, seed: 1);

        foreach (var size in split.SizesPerLanguage())
        {
            var total = size.Training + size.Validation + size.Test;
            Assert.True(size.Validation > 0 && size.Test > 0, $"{size.Language} is missing from a part: {size}");
            Assert.InRange((double)size.Test / total, 0.05, 0.16);
            Assert.InRange((double)size.Training / total, 0.7, 0.9);
        }
    }
}

public class VocabularyTests
{
    [Fact]
    public void KnownCharactersGetTheirOwnIndexAndEverythingElseTheUnknownIndex()
    {
        var vocabulary = Vocabulary.FromNames(["abc", "cab", "ä"]);

        Assert.Equal(5, vocabulary.Size); // unknown + a, b, c, ä
        Assert.Equal([2, 3, 4], vocabulary.Encode("abc"));
        Assert.Equal([5, Vocabulary.Unknown, Vocabulary.Unknown], vocabulary.Encode("ä😀"));
        Assert.DoesNotContain(Vocabulary.Padding, vocabulary.Encode("zzz€"));
    }
}
