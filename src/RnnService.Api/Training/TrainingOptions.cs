using System.ComponentModel.DataAnnotations;
using RnnService.Core.Training;

namespace RnnService.Api.Training;

/// <summary>How the API's training worker trains (section <c>Training</c>).</summary>
public sealed class TrainingOptions
{
    public const string Section = "Training";

    /// <summary>The names data set, one Language.txt per language; a relative path is relative to the content root.</summary>
    [Required]
    public string DataDirectory { get; set; } = "data/names";

    /// <summary>How many finished jobs <c>GET /api/training</c> remembers.</summary>
    [Range(1, 1000)]
    public int JobsKept { get; set; } = 20;

    /// <summary>
    /// Promotion rule (<see cref="Promotion"/>): a new model becomes current unless its validation macro-F1 is more
    /// than this much below the served model's on the same names. 1 promotes every comparable model.
    /// </summary>
    [Range(0.0, 1.0)]
    public double PromotionTolerance { get; set; } = Promotion.DefaultTolerance;
}
