using System.ComponentModel.DataAnnotations;
using RnnService.Core.Training;

namespace RnnService.Api.Predictions;

/// <summary>A prediction-set coverage the served models are calibrated for (<see cref="Calibration.CoverageLevels"/>), or none.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class CoverageLevelAttribute : ValidationAttribute
{
    public CoverageLevelAttribute()
        : base($"coverage must be one of {string.Join(", ", Calibration.CoverageLevels)}.")
    {
    }

    public override bool IsValid(object? value) => value is not double coverage || Calibration.CoverageLevels.Contains(coverage);
}
