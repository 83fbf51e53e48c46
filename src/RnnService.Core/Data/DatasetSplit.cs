namespace RnnService.Core.Data;

/// <summary>Example counts of one language in each part of a split.</summary>
public sealed record LanguageSplitSizes(string Language, int Training, int Validation, int Test);

/// <summary>
/// Training, validation and test examples, split by distinct name so that no name appears in two parts (the raw data
/// repeats names, and a split of raw lines would let the model be tested on names it was trained on).
/// </summary>
public sealed record DatasetSplit(
    IReadOnlyList<string> Languages,
    IReadOnlyList<LabeledName> Training,
    IReadOnlyList<LabeledName> Validation,
    IReadOnlyList<LabeledName> Test)
{
    /// <summary>
    /// Supplementary names to train on as well (see <see cref="NamesDataset.Supplement"/>), without any name that is a
    /// validation or test name, under whatever language: those must stay unseen.
    /// </summary>
    public IReadOnlyList<LabeledName> Supplement { get; init; } = [];

    /// <summary>The names to train on: the training part, and the supplement when <paramref name="supplement"/> says so.</summary>
    public IReadOnlyList<LabeledName> TrainingNames(bool supplement) => supplement && Supplement.Count > 0 ? [.. Training, .. Supplement] : Training;

    /// <summary>
    /// Splits reproducibly from <paramref name="seed"/>, stratified by language: each distinct name is assigned to the
    /// stratum of its rarest language, and each stratum is cut in the given fractions, so that even the smallest
    /// language has names in every part.
    /// </summary>
    public static DatasetSplit Create(NamesDataset dataset, double validationFraction, double testFraction, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(validationFraction);
        ArgumentOutOfRangeException.ThrowIfNegative(testFraction);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(validationFraction + testFraction, 1.0);

        var languageCounts = new int[dataset.Languages.Count];
        foreach (var example in dataset.Examples) languageCounts[example.Language]++;

        var byName = dataset.Examples.GroupBy(example => example.Name, StringComparer.Ordinal).ToArray();
        var strata = byName
            .GroupBy(group => group.Select(example => example.Language).MinBy(language => (languageCounts[language], language)))
            .OrderBy(stratum => stratum.Key);

        var random = new Random(seed);
        List<LabeledName> training = [], validation = [], test = [];
        foreach (var stratum in strata)
        {
            var names = stratum.OrderBy(group => group.Key, StringComparer.Ordinal).ToArray();
            random.Shuffle(names);
            var testCount = (int)Math.Round(names.Length * testFraction);
            var validationCount = (int)Math.Round(names.Length * validationFraction);
            for (var i = 0; i < names.Length; i++)
            {
                var part = i < testCount ? test : i < testCount + validationCount ? validation : training;
                part.AddRange(names[i]);
            }
        }
        var heldOut = validation.Concat(test).Select(example => example.Name).ToHashSet(StringComparer.Ordinal);
        return new DatasetSplit(dataset.Languages, training, validation, test)
        {
            Supplement = dataset.Supplement.Where(example => !heldOut.Contains(example.Name)).ToArray(),
        };
    }

    public IReadOnlyList<LanguageSplitSizes> SizesPerLanguage()
    {
        return Languages
            .Select((language, index) => new LanguageSplitSizes(
                language,
                Training.Count(example => example.Language == index),
                Validation.Count(example => example.Language == index),
                Test.Count(example => example.Language == index)))
            .ToArray();
    }
}
