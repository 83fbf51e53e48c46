using System.Globalization;
using System.Text;
using RnnService.Core.Model;
using RnnService.Core.Storage;
using RnnService.Core.Training;

namespace RnnService.Api.Models;

/// <summary>A model version described for the people who use it, generated from its manifest.</summary>
public sealed record ModelCard(
    int Version,
    DateTimeOffset CreatedAt,
    string Network,
    string IntendedUse,
    IReadOnlyList<string> Limitations,
    string Data,
    string SplitProtocol,
    int TestExamples,
    double TestAccuracy,
    double TestMacroF1,
    double? TestBalancedAccuracy,
    double? TestTopThreeAccuracy,
    IReadOnlyList<LanguageScore> PerLanguage,
    IReadOnlyList<string> WorstServedLanguages,
    CalibrationReport Calibration,
    TrainingConfig Training)
{
    public static ModelCard From(ModelManifest manifest)
    {
        var test = manifest.Metrics.Test;
        var sizes = manifest.Data.SizesPerLanguage;
        var worst = test.Languages.OrderBy(score => score.F1).Take(4).Select(score => score.Language).ToArray();
        return new ModelCard(
            manifest.Version,
            manifest.CreatedAt,
            Describe(manifest.Architecture, manifest.Training.Members),
            $"Suggest which of {manifest.Languages.Count} languages a family name most likely comes from, with calibrated probabilities "
                + "and a prediction set; for research, data exploration and as one signal among others. Not for decisions about "
                + "individuals: a name's origin says nothing certain about a person's nationality, ethnicity or language.",
            [
                $"Knows only these {manifest.Languages.Count} languages: {string.Join(", ", manifest.Languages)}. Any other origin is forced onto one of them.",
                "Trained on family names; given names and full names are outside its training data.",
                "Many names belong to several languages (465 in the data set); the probabilities spread over them and the top answer is then often 'wrong'.",
                $"Class imbalance: {sizes.MaxBy(size => size.Training)!.Language} has {sizes.Max(size => size.Training)} training names, "
                    + $"{sizes.MinBy(size => size.Training)!.Language} {sizes.Min(size => size.Training)}. It serves these worst (lowest test F1): {string.Join(", ", worst)}.",
                "Reads Latin script; Cyrillic and Greek are romanised first, other scripts are flagged 'unsupported_script' and should not be trusted.",
                manifest.Prior is null
                    ? "Probabilities assume names mixed like the training data; this version cannot be asked with another prior (manifest format 1)."
                    : "Probabilities assume names mixed like the training data unless a request gives a prior: ask with \"uniform\" when you have no idea which languages to expect.",
            ],
            $"The names data set of the PyTorch tutorial 'Classifying Names with a Character-Level RNN' (BSD-3-Clause), cleaned: "
                + $"{manifest.Data.Examples} distinct (name, language) examples after normalisation ({manifest.Normalization}) and deduplication; fingerprint {manifest.Data.Fingerprint}."
                + (manifest.Data.Supplement is { } supplement
                    ? $" Also trained on {supplement.NamesPerLanguage.Values.Sum()} supplementary family names from faker-js's locale lists (MIT; "
                        + $"{string.Join(", ", supplement.NamesPerLanguage.Select(pair => $"{pair.Key} {pair.Value}"))}), none of them a validation or test name; "
                        + $"they do not change the mix the data prior stands for; fingerprint {supplement.Fingerprint}."
                    : ""),
            $"Split by distinct name, stratified by language, seed {manifest.Data.SplitSeed}: training {sizes.Sum(s => s.Training)}, "
                + $"validation {sizes.Sum(s => s.Validation)} (early stopping, temperature and prediction-set thresholds), test {sizes.Sum(s => s.Test)} (these figures only).",
            test.Count,
            test.Accuracy,
            test.MacroF1,
            test.BalancedAccuracy,
            test.TopThreeAccuracy,
            test.Languages,
            worst,
            manifest.Calibration,
            manifest.Training);
    }

    /// <summary>The network in words, from the architecture (which, unlike the training settings of an old manifest, knows what was built).</summary>
    private static string Describe(RnnArchitecture architecture, int members)
    {
        var options = new List<string> { $"hidden size {architecture.HiddenSize}" };
        if (members > 1) options.Add($"an ensemble of {members} trained apart, answering their mean");
        if (architecture.Bidirectional) options.Add("a second RNN reading right to left");
        if (architecture.BoundaryMarks) options.Add("begin/end-of-name symbols");
        if (architecture.NgramBuckets > 0) options.Add($"{architecture.NgramBuckets.ToString("N0", CultureInfo.InvariantCulture)} hashed character bigram/trigram inputs");
        return $"Character-level vanilla RNN ({string.Join("; ", options)})";
    }

    /// <summary>The card as Markdown, for people.</summary>
    public string ToMarkdown()
    {
        var md = new StringBuilder();
        void Line(string text = "") => md.Append(text).Append('\n');
        string F(double value) => value.ToString("0.000", CultureInfo.InvariantCulture);

        Line($"# Model card: RnnService model version {Version}");
        Line();
        Line($"Created {CreatedAt:u}. {Network}, trained by RnnService.");
        Line();
        Line("## Intended use");
        Line(IntendedUse);
        Line();
        Line("## Limitations");
        foreach (var limitation in Limitations) Line($"- {limitation}");
        Line();
        Line("## Data");
        Line(Data);
        Line();
        Line(SplitProtocol);
        Line();
        Line($"## Performance on the test split ({TestExamples} examples)");
        Line($"Accuracy {F(TestAccuracy)}, macro-averaged F1 {F(TestMacroF1)}"
            + (TestBalancedAccuracy is { } balanced ? $", balanced accuracy (mean recall per language) {F(balanced)}" : "")
            + (TestTopThreeAccuracy is { } topThree ? $", true language among the top 3 {F(topThree)}" : "")
            + ".");
        Line();
        Line("| language | precision | recall | F1 | support |");
        Line("|---|---|---|---|---|");
        foreach (var score in PerLanguage) Line($"| {score.Language} | {F(score.Precision)} | {F(score.Recall)} | {F(score.F1)} | {score.Support} |");
        Line();
        Line("## Calibration and prediction sets");
        Line($"Temperature {F(Calibration.Temperature)} (fitted on validation). Test NLL {F(Calibration.TestNllBefore)} → {F(Calibration.TestNllAfter)}, "
            + $"expected calibration error (15 bins) {F(Calibration.TestEceBefore)} → {F(Calibration.TestEceAfter)}.");
        Line();
        Line("| target coverage | test coverage | average set size |");
        Line("|---|---|---|");
        foreach (var level in Calibration.PredictionSets) Line($"| {F(level.Coverage)} | {F(level.TestCoverage)} | {level.TestAverageSize.ToString("0.00", CultureInfo.InvariantCulture)} |");
        Line();
        if (Calibration.Priors is not { } priors)
        {
            Line("Published without training frequencies (manifest format 1): answers only with the data prior, with one prediction-set threshold for every language.");
            Line();
        }
        else
        {
            Line("### Under each prior");
            Line("The test split reweighted so that its languages follow the prior (importance weights; under `uniform` every language counts equally). "
                + "Reweighting leaves fewer effective test names, so the ECE a perfectly calibrated model would show here is given beside it.");
            Line();
            Line("Accuracy, balanced accuracy and top-3 are of the answers under that prior on the test split as it is.");
            Line();
            Line($"| prior | accuracy | balanced accuracy | top-3 | ECE | ECE if calibrated | {string.Join(" | ", Calibration.PredictionSets.Select(level => $"coverage of {F(level.Coverage)} sets (size)"))} |");
            Line($"|---|---|---|---|---|---|{string.Concat(Calibration.PredictionSets.Select(_ => "---|"))}");
            foreach (var answered in priors)
            {
                var scores = answered.TestAnswers is { } answers ? $"{F(answers.Accuracy)} | {F(answers.BalancedAccuracy)} | {F(answers.TopThreeAccuracy)}" : "– | – | –";
                Line($"| {answered.Prior} | {scores} | {F(answered.TestEce)} | {F(answered.TestEceIfCalibrated)} | {string.Join(" | ", answered.PredictionSets.Select(level => $"{F(level.TestCoverage)} ({level.TestAverageSize.ToString("0.00", CultureInfo.InvariantCulture)})"))} |");
            }
            Line();
            Line("### Per language");
            Line("Each language has its own prediction-set threshold per coverage (class-conditional conformal, fitted on its validation names), "
                + "so it keeps its coverage whatever the prior. Where a language's names allow, the threshold holds the level with 90 % confidence "
                + "over the draw of those names, not just on average; the confidence reached is given in brackets. A language with too few "
                + "validation names for a level uses the pooled threshold (marked *), without that guarantee.");
            Line();
            Line($"| language | validation names | {string.Join(" | ", Calibration.PredictionSets.Select(level => $"threshold / test coverage at {F(level.Coverage)}"))} | test names |");
            Line($"|---|---|{string.Concat(Calibration.PredictionSets.Select(_ => "---|"))}---|");
            foreach (var (language, k) in Calibration.PredictionSets[0].Languages!.Select((language, k) => (language, k)))
            {
                var cells = Calibration.PredictionSets.Select(level => level.Languages![k]).Select(threshold => $"{F(threshold.Threshold)}{(threshold.Pooled ? "*" : "")}{(threshold.Confidence is { } confidence ? $" [{F(confidence)}]" : "")} / {F(threshold.TestCoverage)}");
                Line($"| {language.Language} | {language.ValidationNames} | {string.Join(" | ", cells)} | {language.TestNames} |");
            }
            Line();
        }
        Line("## Training configuration");
        Line($"`{Training}`");
        return md.ToString();
    }
}
