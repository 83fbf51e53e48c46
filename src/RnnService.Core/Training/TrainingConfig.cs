using RnnService.Core.Model;

namespace RnnService.Core.Training;

public enum LearningRateSchedule
{
    Constant,

    /// <summary>Cosine decay from the learning rate to zero over the planned epochs.</summary>
    Cosine,
}

/// <summary>Which validation score picks the epoch whose weights are kept.</summary>
public enum CheckpointMetric
{
    /// <summary>Lowest validation loss (plain NLL).</summary>
    ValidationLoss,

    /// <summary>Highest validation macro-F1, the measure promotion compares.</summary>
    ValidationMacroF1,
}

public enum Batching
{
    /// <summary>Each epoch: shuffle, then sort names by length within windows of a few batches, so a batch pads little.</summary>
    LengthGrouped,

    /// <summary>Every batch padded to the longest training name (the article's reference).</summary>
    GlobalPadding,
}

/// <summary>Hyperparameters of one training run. The defaults are the shipped model's; <see cref="Reference"/> is the article's.</summary>
public sealed record TrainingConfig
{
    public int HiddenSize { get; init; } = 128;
    public int Epochs { get; init; } = 40;
    public int BatchSize { get; init; } = 128;
    public double LearningRate { get; init; } = 0.01;
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Cosine;

    /// <summary>
    /// Chance that a training character is replaced by the unknown symbol. Regularises, and trains the unknown column
    /// of U, which clean training names never reach but requests with unseen characters do.
    /// </summary>
    public double UnknownCharacterRate { get; init; } = 0.05;

    /// <summary>Decoupled weight decay (AdamW); 0 makes the optimiser plain Adam.</summary>
    public double WeightDecay { get; init; } = 0.2;

    /// <summary>Largest allowed gradient norm per step; 0 turns clipping off.</summary>
    public double GradientClipNorm { get; init; } = 5.0;

    /// <summary>
    /// Class weight = (count / mean count)^-exponent in the loss. 0 weighs every example alike; 1 weighs every
    /// language alike. In between trades plain accuracy (dominated by Russian and English) for macro-F1.
    /// </summary>
    public double ClassWeightExponent { get; init; } = 0.3;

    /// <summary>Stop after this many epochs without a better checkpoint score (the best weights are kept); 0 = never.</summary>
    public int EarlyStoppingPatience { get; init; }

    /// <summary>The validation score that picks the kept epoch (and that early stopping waits on).</summary>
    public CheckpointMetric Checkpoint { get; init; } = CheckpointMetric.ValidationMacroF1;

    /// <summary>Epochs over which the learning rate rises linearly to its peak before the schedule runs over the rest; 0 = none.</summary>
    public int WarmupEpochs { get; init; } = 2;

    /// <summary>Share of each target spread evenly over all languages in the loss (label smoothing); 0 = hard targets.</summary>
    public double LabelSmoothing { get; init; } = 0.1;

    /// <summary>Whether weight decay also shrinks the output bias c, which only encodes how common each language is.</summary>
    public bool DecayOutputBias { get; init; }

    /// <summary>
    /// Also train on each accented training name with its accents removed ("müller" → "muller"), as people often type
    /// them; the copy keeps the language and is skipped when the plain spelling is already a training example.
    /// </summary>
    public bool AccentStrippedCopies { get; init; }

    /// <summary>
    /// Also train on the data's supplementary names (see <see cref="Data.NamesDataset.Supplement"/>). They change what
    /// the model has seen, not the mix of languages the data prior stands for.
    /// </summary>
    public bool SupplementaryNames { get; init; } = true;

    /// <summary>Begin/end-of-name symbols (see <see cref="RnnArchitecture.BoundaryMarks"/>).</summary>
    public bool BoundaryMarks { get; init; } = true;

    /// <summary>Hashed bigram/trigram columns of U (see <see cref="RnnArchitecture.NgramBuckets"/>); 0 = characters only.</summary>
    public int NgramBuckets { get; init; } = 4096;

    /// <summary>A second RNN reading right to left (see <see cref="RnnArchitecture.Bidirectional"/>).</summary>
    public bool Bidirectional { get; init; } = true;

    /// <summary>
    /// RNNs trained apart, each with HiddenSize / Members units and its own seed, and served as one RNN answering their
    /// mean logits (an ensemble; see <see cref="Model.CharRnn.Ensemble"/>): the same serving cost as one RNN of HiddenSize.
    /// </summary>
    public int Members { get; init; } = 4;

    /// <summary>Seeds initialisation and shuffling.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Seeds the train/validation/test split; keep it fixed to compare models on the same test names.</summary>
    public int SplitSeed { get; init; } = 2024;

    public double ValidationFraction { get; init; } = 0.1;
    public double TestFraction { get; init; } = 0.1;
    public RnnInitialization Initialization { get; init; } = RnnInitialization.Orthogonal;
    public bool OutputBias { get; init; } = true;
    public Precision Precision { get; init; } = Precision.Float32;
    public Batching Batching { get; init; } = Batching.LengthGrouped;
    public bool ShuffleEachEpoch { get; init; } = true;

    /// <summary>
    /// The first shipped model's settings (models/1): one RNN reading single characters left to right, early stopping
    /// on validation loss. A manifest written before a setting existed was trained with its value here.
    /// </summary>
    public static TrainingConfig FirstRelease { get; } = new()
    {
        EarlyStoppingPatience = 8,
        Checkpoint = CheckpointMetric.ValidationLoss,
        WarmupEpochs = 0,
        LabelSmoothing = 0,
        DecayOutputBias = true,
        BoundaryMarks = false,
        NgramBuckets = 0,
        Bidirectional = false,
        Members = 1,
        SupplementaryNames = false,
    };

    /// <summary>
    /// T. Parr, "Explaining RNNs without neural networks": hidden 100, identity W, U and V from a standard normal,
    /// float64, no biases, Adam at 0.005, batch 32, 12 epochs, training set shuffled once, global left padding.
    /// </summary>
    /// <remarks>Built on <see cref="FirstRelease"/>: the article knows none of the options added since.</remarks>
    public static TrainingConfig Reference { get; } = FirstRelease with
    {
        HiddenSize = 100,
        Epochs = 12,
        BatchSize = 32,
        LearningRate = 0.005,
        Schedule = LearningRateSchedule.Constant,
        WeightDecay = 0,
        GradientClipNorm = 0,
        ClassWeightExponent = 0,
        UnknownCharacterRate = 0,
        EarlyStoppingPatience = 0,
        Initialization = RnnInitialization.Identity,
        OutputBias = false,
        Precision = Precision.Float64,
        Batching = Batching.GlobalPadding,
        ShuffleEachEpoch = false,
    };

    /// <summary>Each setting outside its documented range, as (setting, message); empty when the config is valid.</summary>
    public IReadOnlyList<(string Setting, string Message)> Validate()
    {
        var errors = new List<(string, string)>();
        void Check(bool ok, string setting, string message)
        {
            if (!ok) errors.Add((setting, message));
        }
        Check(HiddenSize is >= 4 and <= 512, nameof(HiddenSize), "must be between 4 and 512");
        Check(Members is >= 1 and <= 8, nameof(Members), "must be between 1 and 8");
        Check(Members < 1 || HiddenSize is < 4 or > 512 || HiddenSize % Members == 0, nameof(HiddenSize), "must be a multiple of the number of members");
        Check(Epochs is >= 1 and <= 200, nameof(Epochs), "must be between 1 and 200");
        Check(BatchSize is >= 1 and <= 1024, nameof(BatchSize), "must be between 1 and 1024");
        Check(LearningRate is > 0 and <= 1, nameof(LearningRate), "must be greater than 0 and at most 1");
        Check(UnknownCharacterRate is >= 0 and <= 0.5, nameof(UnknownCharacterRate), "must be between 0 and 0.5");
        Check(WeightDecay is >= 0 and <= 1, nameof(WeightDecay), "must be between 0 and 1");
        Check(GradientClipNorm is >= 0 and <= 1000, nameof(GradientClipNorm), "must be between 0 (off) and 1000");
        Check(ClassWeightExponent is >= 0 and <= 1, nameof(ClassWeightExponent), "must be between 0 and 1");
        Check(EarlyStoppingPatience is >= 0 and <= 200, nameof(EarlyStoppingPatience), "must be between 0 (off) and 200");
        Check(WarmupEpochs is >= 0 and <= 50, nameof(WarmupEpochs), "must be between 0 (none) and 50");
        Check(LabelSmoothing is >= 0 and <= 0.5, nameof(LabelSmoothing), "must be between 0 and 0.5");
        Check(NgramBuckets is >= 0 and <= Storage.ManifestRules.MaxNgramBuckets, nameof(NgramBuckets), $"must be between 0 (off) and {Storage.ManifestRules.MaxNgramBuckets}");
        Check(ValidationFraction is > 0 and <= 0.4, nameof(ValidationFraction), "must be greater than 0 and at most 0.4");
        Check(TestFraction is > 0 and <= 0.4, nameof(TestFraction), "must be greater than 0 and at most 0.4");
        Check(Enum.IsDefined(Schedule), nameof(Schedule), "is not a known schedule");
        Check(Enum.IsDefined(Initialization), nameof(Initialization), "is not a known initialization");
        Check(Enum.IsDefined(Precision), nameof(Precision), "is not a known precision");
        Check(Enum.IsDefined(Batching), nameof(Batching), "is not a known batching");
        Check(Enum.IsDefined(Checkpoint), nameof(Checkpoint), "is not a known checkpoint metric");
        return errors;
    }
}
