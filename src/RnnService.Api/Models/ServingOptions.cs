using System.ComponentModel.DataAnnotations;

namespace RnnService.Api.Models;

/// <summary>Where models live and how the API serves them (section <c>Serving</c>).</summary>
public sealed class ServingOptions
{
    public const string Section = "Serving";

    /// <summary>The shared models folder; a relative path is relative to the content root (the API project's folder under dotnet run).</summary>
    [Required]
    public string ModelsDirectory { get; set; } = "models";

    /// <summary>How often the folder's <c>current</c> pointer is checked for a version published elsewhere.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Torch intra-op threads, set once at startup; one is fastest for these small matrices.</summary>
    [Range(1, 64)]
    public int TorchThreads { get; set; } = 1;
}
