using RnnService.Api.Hosting;
using RnnService.Core.Jobs;
using RnnService.Core.Training;

namespace RnnService.Api.Training;

/// <summary>
/// Hyperparameters for a training job. Every one is optional; omitted ones take the shipped model's defaults.
/// </summary>
public sealed record TrainingRequest
{
    /// <summary>Hidden units each way, 4–512, summed over the ensemble's members and a multiple of their number (default 128).</summary>
    /// <example>128</example>
    public int? HiddenSize { get; init; }

    /// <summary>RNNs trained apart, each with its own seed, and served as one that answers their mean logits, 1–8 (default 4).</summary>
    /// <example>4</example>
    public int? Members { get; init; }

    /// <summary>Whether a second RNN reads each name right to left (default true).</summary>
    public bool? Bidirectional { get; init; }

    /// <summary>Whether the RNN reads begin- and end-of-name symbols (default true).</summary>
    public bool? BoundaryMarks { get; init; }

    /// <summary>Hashed character bigram and trigram inputs, 0 (characters only) to 65,536 (default 4,096).</summary>
    public int? NgramBuckets { get; init; }

    /// <summary>Whether it also trains on the data's supplementary names, which never change the data prior's mix (default true).</summary>
    public bool? SupplementaryNames { get; init; }

    /// <summary>Share of each target spread over all languages in the loss, 0–0.5 (default 0.1).</summary>
    public double? LabelSmoothing { get; init; }

    /// <summary>Epochs per member, 1–200 (default 40).</summary>
    /// <example>10</example>
    public int? Epochs { get; init; }

    /// <summary>Names per minibatch, 1–1024 (default 128).</summary>
    /// <example>128</example>
    public int? BatchSize { get; init; }

    /// <summary>Peak learning rate, greater than 0 and at most 1 (default 0.01).</summary>
    /// <example>0.01</example>
    public double? LearningRate { get; init; }

    /// <summary>AdamW weight decay, 0–1 (default 0.2).</summary>
    public double? WeightDecay { get; init; }

    /// <summary>Class weight exponent, 0 (every example alike) to 1 (every language alike); default 0.3.</summary>
    public double? ClassWeightExponent { get; init; }

    /// <summary>Gradient clipping norm, 0 (off) to 1000 (default 5).</summary>
    public double? GradientClipNorm { get; init; }

    /// <summary>Epochs without a better validation macro-F1 before stopping, 0 (never) to 200 (default 0).</summary>
    public int? EarlyStoppingPatience { get; init; }

    /// <summary>Seed of initialisation and shuffling (default 1).</summary>
    /// <example>1</example>
    public int? Seed { get; init; }

    public TrainingConfig ToConfig()
    {
        var defaults = new TrainingConfig();
        return defaults with
        {
            HiddenSize = HiddenSize ?? defaults.HiddenSize,
            Members = Members ?? defaults.Members,
            Bidirectional = Bidirectional ?? defaults.Bidirectional,
            BoundaryMarks = BoundaryMarks ?? defaults.BoundaryMarks,
            NgramBuckets = NgramBuckets ?? defaults.NgramBuckets,
            SupplementaryNames = SupplementaryNames ?? defaults.SupplementaryNames,
            LabelSmoothing = LabelSmoothing ?? defaults.LabelSmoothing,
            Epochs = Epochs ?? defaults.Epochs,
            BatchSize = BatchSize ?? defaults.BatchSize,
            LearningRate = LearningRate ?? defaults.LearningRate,
            WeightDecay = WeightDecay ?? defaults.WeightDecay,
            ClassWeightExponent = ClassWeightExponent ?? defaults.ClassWeightExponent,
            GradientClipNorm = GradientClipNorm ?? defaults.GradientClipNorm,
            EarlyStoppingPatience = EarlyStoppingPatience ?? defaults.EarlyStoppingPatience,
            Seed = Seed ?? defaults.Seed,
        };
    }
}

/// <summary>A training job as seen from outside.</summary>
/// <param name="Epochs">One entry per finished epoch: losses, accuracies, learning rate, elapsed time.</param>
/// <param name="ModelVersion">The published version, once the job succeeded.</param>
/// <param name="Promoted">Whether the new version became current (see the promotion rule).</param>
/// <param name="PromotionNote">Why it was or was not promoted.</param>
/// <param name="Error">Why the job failed.</param>
/// <param name="CancelRequested">Cancellation was asked for; the running job stops within about a second.</param>
public sealed record TrainingJobResponse(
    Guid Id,
    TrainingJobState State,
    TrainingConfig Config,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    IReadOnlyList<EpochReport> Epochs,
    int? ModelVersion,
    bool? Promoted,
    string? PromotionNote,
    string? Error,
    bool CancelRequested)
{
    /// <summary>The job as anyone may read it: a failure's reason names files inside the service's folders only.</summary>
    public static TrainingJobResponse From(TrainingJob job, ServerPaths paths) => new(
        job.Id, job.State, job.Config, job.CreatedAt, job.StartedAt, job.FinishedAt, job.Epochs, job.ModelVersion, job.Promoted, job.PromotionNote,
        job.Error is null ? null : paths.Redact(job.Error), job.CancelRequested);
}
