using System.ComponentModel.DataAnnotations;
using RnnService.Core.Training;

namespace RnnService.Core.Jobs;

/// <summary>
/// How training jobs are kept and run (section <c>Training</c>), read alike by the API and by the worker role, so both
/// take one environment.
/// </summary>
public sealed class TrainingOptions
{
    public const string Section = "Training";

    /// <summary>The names data set, one Language.txt per language; a relative path is relative to the content root.</summary>
    [Required]
    public string DataDirectory { get; set; } = "data/names";

    /// <summary>How many finished jobs the job store keeps (and <c>GET /api/training</c> lists).</summary>
    [Range(1, 1000)]
    public int JobsKept { get; set; } = 20;

    /// <summary>
    /// Promotion rule (<see cref="Promotion"/>): a new model becomes current unless its validation macro-F1 is more
    /// than this much below the served model's on the same names. 1 promotes every comparable model.
    /// </summary>
    [Range(0.0, 1.0)]
    public double PromotionTolerance { get; set; } = Promotion.DefaultTolerance;

    /// <summary>Whether this API process also runs a training worker; false for API replicas of a fleet with its own worker.</summary>
    public bool RunWorker { get; set; } = true;

    /// <summary>
    /// How long a running job's worker may stay silent before the job is declared lost (<c>Failed: worker lost</c>).
    /// Workers heartbeat every <see cref="PollInterval"/>, so this only has to outlast a pause of the store or the process.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:30:00")]
    public TimeSpan WorkerLease { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How often a worker looks for a queued job and, while training, heartbeats, saves progress and checks whether
    /// the job was cancelled through any instance; also how often instances look for lost workers.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:00:01")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The store's own view of these settings.</summary>
    public JobStoreSettings StoreSettings => new(JobsKept, WorkerLease);
}

/// <summary>What the job store needs to know: how many finished jobs to keep, and when a silent worker counts as lost.</summary>
public sealed record JobStoreSettings(int JobsKept, TimeSpan WorkerLease);
