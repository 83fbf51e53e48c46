using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using Microsoft.ML.Transforms.Text;
using RnnService.Core.Data;
using RnnService.Core.Storage;
using RnnService.Core.Training;

namespace RnnService.Baseline;

/// <summary>Settings of the n-gram baseline.</summary>
/// <param name="ClassWeightExponent">Example weight (count / mean count)^-exponent, as in the RNN's loss: 0 unweighted, 1 every language alike.</param>
/// <param name="SupplementaryNames">Whether it also trains on the data's supplementary names, as the default RNN does.</param>
/// <param name="L2Regularization">
/// L2 penalty on the weights, added to the summed log-loss (scikit-learn's 1/C); chosen on validation from 1, 0.05 and
/// 0.005 (accuracy 0.790, 0.839, 0.840; macro-F1 0.309, 0.497, 0.507).
/// </param>
public sealed record NgramBaselineOptions(
    double ClassWeightExponent = 0, int MaximumNgramLength = 5, float L2Regularization = 0.005f, int Seed = 1, bool SupplementaryNames = true);

/// <summary>
/// Character n-grams (lengths 1–5, with begin/end-of-text markers) weighted by TF-IDF and L2-normalised, then a
/// multinomial logistic regression fitted by L-BFGS (ML.NET's text featurizer and <c>LbfgsMaximumEntropy</c>): the
/// strong linear model a user would try first, trained on exactly the RNN's split.
/// </summary>
/// <remarks>
/// ML.NET rather than a hand-written featurizer and solver: both are well kept, and the baseline should not be a straw
/// man of ours. L-BFGS rather than SDCA: on these 14,401 names SDCA stopped far from the optimum (validation accuracy
/// 0.74 at its automatic regularisation, 0.70 at L2 = 1e-4), where L-BFGS solves the convex problem to convergence.
/// </remarks>
public sealed class NgramBaseline
{
    private readonly PredictionEngine<NameRow, ScoreRow> engine;

    private NgramBaseline(PredictionEngine<NameRow, ScoreRow> engine, int languageCount, TrainingPrior prior)
    {
        this.engine = engine;
        LanguageCount = languageCount;
        Prior = prior;
    }

    public int LanguageCount { get; }

    /// <summary>The prior its scores were fitted to (its training names and class weights), as an RNN's manifest records it.</summary>
    public TrainingPrior Prior { get; }

    /// <summary>Fits the featurizer and the classifier on the split's training names (and its supplement, if the options say so) only.</summary>
    public static NgramBaseline Train(DatasetSplit split, NgramBaselineOptions options)
    {
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(options);
        var ml = new MLContext(options.Seed);
        var names = split.TrainingNames(options.SupplementaryNames);
        var prior = ModelTrainer.Prior(split, names, options.ClassWeightExponent);      // as the RNN's loss weighs them
        var rows = names
            .Select(example => new NameRow
            {
                Name = example.Name,
                Language = split.Languages[example.Language],
                Weight = (float)prior.ClassWeights[split.Languages[example.Language]],
            })
            .ToArray();
        var data = ml.Data.LoadFromEnumerable(rows);

        var featurizer = new TextFeaturizingEstimator.Options
        {
            CaseMode = TextNormalizingEstimator.CaseMode.None,        // names arrive normalised
            KeepDiacritics = true,
            KeepPunctuations = true,
            KeepNumbers = true,
            WordFeatureExtractor = null,
            CharFeatureExtractor = new WordBagEstimator.Options
            {
                NgramLength = options.MaximumNgramLength,
                UseAllLengths = true,
                Weighting = NgramExtractingEstimator.WeightingCriteria.TfIdf,
            },
            Norm = TextFeaturizingEstimator.NormFunction.L2,
        };
        var trainer = new LbfgsMaximumEntropyMulticlassTrainer.Options
        {
            LabelColumnName = "Label",
            FeatureColumnName = "Features",
            ExampleWeightColumnName = nameof(NameRow.Weight),
            L1Regularization = 0,
            L2Regularization = options.L2Regularization,
            NumberOfThreads = 1,                                      // deterministic, and one core as the RNN gets
        };
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", nameof(NameRow.Language), keyData: LanguagesInOrder(ml, split.Languages))
            .Append(ml.Transforms.Text.FeaturizeText("Features", featurizer, nameof(NameRow.Name)))
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(trainer));
        var model = pipeline.Fit(data);
        return new NgramBaseline(ml.Model.CreatePredictionEngine<NameRow, ScoreRow>(model), split.Languages.Count, prior);
    }

    /// <summary>The languages as key data, so key k, and so score k, is language k of the split.</summary>
    private static IDataView LanguagesInOrder(MLContext ml, IReadOnlyList<string> languages) =>
        ml.Data.LoadFromEnumerable(languages.Select(language => new LanguageRow { Language = language }).ToArray());

    /// <summary>
    /// Log-probabilities of each language, in the split's language order, one array per normalised name: scores that
    /// <see cref="Core.Training.EvaluationResult.FromScores"/> and a logit adjustment take like an RNN's logits.
    /// Not thread-safe (one prediction engine).
    /// </summary>
    public double[][] LogProbabilities(IReadOnlyList<string> normalizedNames)
    {
        ArgumentNullException.ThrowIfNull(normalizedNames);
        return normalizedNames.Select(name =>
        {
            var score = engine.Predict(new NameRow { Name = name }).Score;
            if (score.Length != LanguageCount) throw new InvalidOperationException($"Expected {LanguageCount} scores, got {score.Length}.");
            return score.Select(probability => Math.Log(Math.Max(probability, 1e-12))).ToArray();
        }).ToArray();
    }

    private sealed class NameRow
    {
        public string Name { get; set; } = "";
        public string Language { get; set; } = "";
        public float Weight { get; set; } = 1;
    }

    private sealed class LanguageRow
    {
        public string Language { get; set; } = "";
    }

    private sealed class ScoreRow
    {
        public float[] Score { get; set; } = [];
    }
}
