using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using RnnService.Api.Hosting;
using RnnService.Core.Storage;

namespace RnnService.Api.Models;

/// <summary>A model version at a glance, read from its manifest without loading weights.</summary>
/// <param name="Current">Whether this instance serves this version now.</param>
public sealed record ModelSummary(
    int Version,
    DateTimeOffset CreatedAt,
    bool Current,
    int HiddenSize,
    int Epochs,
    double TestAccuracy,
    double TestMacroF1,
    double ValidationMacroF1);

/// <summary>Model versions in the shared models folder: list, inspect, and choose which one is served.</summary>
[ApiController]
[Route("api/models")]
[EnableRateLimiting(RateLimiting.ReadsPolicy)]
[Produces("application/json")]
public sealed class ModelsController(ModelStore store, ModelHost host, ModelListing listing, ServerPaths paths) : ControllerBase
{
    /// <summary>Every model version with its headline metrics, oldest first.</summary>
    [HttpGet(Name = "listModels")]
    [ProducesResponseType<IReadOnlyList<ModelSummary>>(StatusCodes.Status200OK)]
    public IReadOnlyList<ModelSummary> List()
    {
        var served = host.Current?.Version;
        return listing.Manifests().Select(manifest => new ModelSummary(
            manifest.Version,
            manifest.CreatedAt,
            manifest.Version == served,
            manifest.Architecture.HiddenSize,
            manifest.Metrics.History.Count,
            manifest.Metrics.Test.Accuracy,
            manifest.Metrics.Test.MacroF1,
            manifest.Metrics.Validation.MacroF1)).ToArray();
    }

    /// <summary>The manifest of the version being served.</summary>
    /// <response code="503">No valid model is loaded.</response>
    [HttpGet("current", Name = "getCurrentModel")]
    [ProducesResponseType<ModelManifest>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status503ServiceUnavailable, "application/problem+json")]
    public ActionResult<ModelManifest> Current() =>
        host.Current is { } manifest
            ? manifest
            : new Problem(ProblemKinds.ModelUnavailable, "No valid model version is loaded yet.");

    /// <summary>The full manifest of one version: architecture, vocabulary, training configuration, per-language scores, confusion matrix, history.</summary>
    /// <response code="404">No such version, or its manifest cannot be read.</response>
    [HttpGet("{version:int}", Name = "getModel")]
    [ProducesResponseType<ModelManifest>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public ActionResult<ModelManifest> Get(int version)
    {
        if (!store.Versions().Contains(version)) return VersionNotFound(version);
        try
        {
            return store.GetManifest(version);
        }
        catch (ModelLoadException exception)
        {
            return new Problem(ProblemKinds.NotFound, $"Model version {version} cannot be read: {paths.Redact(exception.Message)}");
        }
    }

    /// <summary>The model card of one version: intended use, limitations, data, per-language scores, calibration.</summary>
    /// <param name="version">The model version.</param>
    /// <param name="format"><c>json</c> (default) or <c>markdown</c>.</param>
    /// <response code="200">The card, as JSON or as Markdown (text/markdown).</response>
    /// <response code="400">An unknown format.</response>
    /// <response code="404">No such version, or its manifest cannot be read.</response>
    [HttpGet("{version:int}/card", Name = "getModelCard")]
    [ProducesResponseType<ModelCard>(StatusCodes.Status200OK, "application/json")]
    [ProducesResponseType<string>(StatusCodes.Status200OK, "text/markdown")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status400BadRequest, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public IActionResult Card(int version, string format = "json")
    {
        if (format is not ("json" or "markdown"))
        {
            return new Problem(ProblemKinds.Validation, "") { Errors = new Dictionary<string, string[]> { ["format"] = ["format must be json or markdown."] } };
        }
        var manifest = Get(version);
        if (manifest.Value is not { } found) return manifest.Result!;
        var card = ModelCard.From(found);
        return format == "markdown" ? Content(card.ToMarkdown(), "text/markdown; charset=utf-8") : Ok(card);
    }

    /// <summary>Serves this version from now on, on every instance sharing the models folder (API key required).</summary>
    /// <remarks>Use it to roll back or pin a version. The version is loaded and verified first; a version that fails never replaces the served one.</remarks>
    /// <response code="200">The version is loaded and current; its manifest.</response>
    /// <response code="401">The X-Api-Key header is missing or wrong.</response>
    /// <response code="404">No such version.</response>
    /// <response code="422">The version exists but cannot be served (corrupt or incompatible); the served model is unchanged.</response>
    /// <response code="503">The models folder cannot record the new current version (read-only, disk full); the served model is unchanged.</response>
    [HttpPost("{version:int}/activate", Name = "activateModel")]
    [Authorize]
    [ProducesResponseType<ModelManifest>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status401Unauthorized, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status422UnprocessableEntity, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status503ServiceUnavailable, "application/problem+json")]
    public ActionResult<ModelManifest> Activate(int version)
    {
        if (!store.Versions().Contains(version)) return VersionNotFound(version);
        try
        {
            return host.Activate(version);
        }
        catch (ModelLoadException exception)
        {
            return new Problem(ProblemKinds.ModelUnusable, $"Model version {version} cannot be served: {paths.Redact(exception.Message)}");
        }
        catch (ModelStoreWriteException exception)
        {
            return new Problem(ProblemKinds.ModelsFolderUnwritable, paths.Redact(exception.Message));
        }
    }

    private static Problem VersionNotFound(int version) => new(ProblemKinds.NotFound, $"Model version {version} does not exist.");
}
