using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.RateLimiting;
using RnnService.Api.Hosting;

namespace RnnService.Api.Training;

/// <summary>Retraining over HTTP: start, watch and cancel training jobs.</summary>
[ApiController]
[Route("api/training")]
[EnableRateLimiting(RateLimiting.ReadsPolicy)]
public sealed class TrainingController(TrainingJobs jobs) : ControllerBase
{
    /// <summary>Starts a training job (API key required).</summary>
    /// <remarks>
    /// Trains on the service's names data with the given hyperparameters (omitted ones take the defaults) and publishes
    /// the result as a new model version, which becomes current unless the promotion rule says otherwise. Poll the job
    /// at the Location header. Only one job runs at a time.
    /// </remarks>
    /// <response code="202">The job is queued; Location points at it.</response>
    /// <response code="400">A hyperparameter is outside its documented range (the error names it).</response>
    /// <response code="401">The X-Api-Key header is missing or wrong.</response>
    /// <response code="409">A job is already queued or running; the problem names it.</response>
    [HttpPost]
    [Authorize]
    [Consumes("application/json")]
    [ProducesResponseType<TrainingJobResponse>(StatusCodes.Status202Accepted)]
    [ProducesResponseType<ValidationProblemDetails>(StatusCodes.Status400BadRequest, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status401Unauthorized, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status409Conflict, "application/problem+json")]
    public ActionResult<TrainingJobResponse> Start([FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] TrainingRequest? request)
    {
        var config = (request ?? new TrainingRequest()).ToConfig();
        var errors = config.Validate();
        if (errors.Count > 0)
        {
            foreach (var (setting, message) in errors) ModelState.AddModelError(JsonNamingPolicy.CamelCase.ConvertName(setting), $"{setting} {message}.");
            return ValidationProblem(ModelState);
        }
        if (!jobs.TryStart(config, out var job))
        {
            var active = job.Snapshot();
            return Problem(
                title: "A training job is already active.",
                detail: $"Job {active.Id} is {active.State.ToString().ToLowerInvariant()}; wait for it to finish or cancel it with DELETE /api/training/{active.Id}.",
                statusCode: StatusCodes.Status409Conflict,
                extensions: new Dictionary<string, object?> { ["jobId"] = active.Id });
        }
        return AcceptedAtAction(nameof(Get), new { id = job.Id }, job.Snapshot());
    }

    /// <summary>Recent training jobs, newest first.</summary>
    [HttpGet]
    [ProducesResponseType<IReadOnlyList<TrainingJobResponse>>(StatusCodes.Status200OK)]
    public IReadOnlyList<TrainingJobResponse> List() => jobs.Recent().Select(job => job.Snapshot()).ToArray();

    /// <summary>A training job: state, per-epoch progress, times, and the resulting model version or error.</summary>
    /// <response code="404">No such job (jobs are kept in memory; the oldest finished ones are forgotten).</response>
    [HttpGet("{id:guid}")]
    [ProducesResponseType<TrainingJobResponse>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public ActionResult<TrainingJobResponse> Get(Guid id) =>
        jobs.Find(id) is { } job ? job.Snapshot() : JobNotFound(id);

    /// <summary>Cancels a queued or running job (API key required). A cancelled job publishes nothing.</summary>
    /// <response code="202">Cancellation requested; the job stops at its next minibatch.</response>
    /// <response code="401">The X-Api-Key header is missing or wrong.</response>
    /// <response code="404">No such job.</response>
    /// <response code="409">The job has already finished.</response>
    [HttpDelete("{id:guid}")]
    [Authorize]
    [ProducesResponseType<TrainingJobResponse>(StatusCodes.Status202Accepted)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status401Unauthorized, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status409Conflict, "application/problem+json")]
    public ActionResult<TrainingJobResponse> Cancel(Guid id)
    {
        if (jobs.Find(id) is not { } job) return JobNotFound(id);
        if (!job.RequestCancellation())
        {
            return Problem(title: "The job has already finished.", detail: $"Job {id} is {job.Snapshot().State.ToString().ToLowerInvariant()}.", statusCode: StatusCodes.Status409Conflict);
        }
        return Accepted(job.Snapshot());
    }

    private ObjectResult JobNotFound(Guid id) =>
        Problem(title: "No such training job.", detail: $"No training job {id} is known to this instance.", statusCode: StatusCodes.Status404NotFound);
}
