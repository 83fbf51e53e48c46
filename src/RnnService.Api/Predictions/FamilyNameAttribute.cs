using System.ComponentModel.DataAnnotations;
using RnnService.Api.Hosting;
using RnnService.Core.Data;

namespace RnnService.Api.Predictions;

/// <summary>
/// A name the model can read: at most <see cref="PredictionLimits.MaxNameLength"/> characters once normalised and at
/// least one letter. Characters the model has never seen are allowed: they map to the unknown input.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class FamilyNameAttribute : ValidationAttribute
{
    // A missing name is [Required]'s to report.
    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext) =>
        value is string name ? Check(name, validationContext.MemberName) : ValidationResult.Success;

    internal static ValidationResult? Check(string name, string? member)
    {
        var normalized = NameNormalizer.Normalize(name);
        var field = JsonField.Casing(member ?? "name");
        if (normalized.Length == 0) return new ValidationResult($"{field} must not be empty.", MemberNames(member));
        if (normalized.Length > PredictionLimits.MaxNameLength)
        {
            return new ValidationResult(
                $"{field} must be at most {PredictionLimits.MaxNameLength} characters long (it has {normalized.Length}).", MemberNames(member));
        }
        return NameNormalizer.HasLetter(normalized)
            ? ValidationResult.Success
            : new ValidationResult($"{field} must contain at least one letter.", MemberNames(member));
    }

    private static string[]? MemberNames(string? member) => member is null ? null : [member];
}
