using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.RateLimiting;
using RnnService.Api.Hosting;
using RnnService.Core.Jobs;

namespace RnnService.Api.Training;

/// <summary>
/// Retraining over HTTP: start, watch and cancel training jobs. Jobs live in the shared job store, so every instance
/// answers alike; a training worker (in this process or another) runs them.
/// </summary>
[ApiController]
[Route("api/training")]
[EnableRateLimiting(RateLimiting.ReadsPolicy)]
[ProducesResponseType<ProblemDetails>(StatusCodes.Status503ServiceUnavailable, "application/problem+json")]
[Produces("application/json")]
public sealed class TrainingController(IJobStore jobs, ServerPaths paths) : ControllerBase
{
    /// <summary>Starts a training job (API key required).</summary>
    /// <remarks>
    /// Trains on the service's names data with the given hyperparameters (omitted ones take the defaults) and publishes
    /// the result as a new model version, which becomes current unless the promotion rule says otherwise. Poll the job
    /// at the Location header. Only one job is queued or running at a time across every instance.
    /// </remarks>
    /// <response code="202">The job is queued; Location points at it.</response>
    /// <response code="400">A hyperparameter is outside its documented range (the error names it).</response>
    /// <response code="401">The X-Api-Key header is missing or wrong.</response>
    /// <response code="409">A job is already queued or running; the problem names it.</response>
    /// <response code="503">The job store cannot be reached (predictions are unaffected).</response>
    [HttpPost(Name = "startTraining")]
    [Authorize]
    [Consumes("application/json")]
    [ProducesResponseType<TrainingJobResponse>(StatusCodes.Status202Accepted)]
    [ProducesResponseType<HttpValidationProblemDetails>(StatusCodes.Status400BadRequest, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status401Unauthorized, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status409Conflict, "application/problem+json")]
    public async Task<ActionResult<TrainingJobResponse>> Start(
        [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] TrainingRequest? request, CancellationToken cancellationToken)
    {
        var config = (request ?? new TrainingRequest()).ToConfig();
        var errors = config.Validate();
        if (errors.Count > 0)
        {
            return new Problem(ProblemKinds.Validation, "")
            {
                Errors = errors.GroupBy(error => JsonField.Casing(error.Setting))
                    .ToDictionary(field => field.Key, field => field.Select(error => $"{field.Key} {error.Message}.").ToArray()),
            };
        }
        var (queued, job) = await jobs.EnqueueAsync(config, cancellationToken);
        if (!queued)
        {
            return new Problem(
                ProblemKinds.TrainingJobActive,
                $"Job {job.Id} is {job.State.ToString().ToLowerInvariant()}; wait for it to finish or cancel it with DELETE /api/training/{job.Id}.")
            {
                Extensions = { ["jobId"] = job.Id },
            };
        }
        // A path, not an absolute URL: built from the request's Host header, that would repeat whatever host a client sent.
        return Accepted(Url.Action(nameof(Get), new { id = job.Id }), TrainingJobResponse.From(job, paths));
    }

    /// <summary>Recent training jobs, newest first.</summary>
    [HttpGet(Name = "listTrainingJobs")]
    [ProducesResponseType<IReadOnlyList<TrainingJobResponse>>(StatusCodes.Status200OK)]
    public async Task<IReadOnlyList<TrainingJobResponse>> List(CancellationToken cancellationToken) =>
        (await jobs.RecentAsync(cancellationToken)).Select(job => TrainingJobResponse.From(job, paths)).ToArray();

    /// <summary>A training job: state, per-epoch progress, times, and the resulting model version or error.</summary>
    /// <response code="404">No such job (the oldest finished jobs beyond Training:JobsKept are forgotten).</response>
    [HttpGet("{id:guid}", Name = "getTrainingJob")]
    [ProducesResponseType<TrainingJobResponse>(StatusCodes.Status200OK)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    public async Task<ActionResult<TrainingJobResponse>> Get(Guid id, CancellationToken cancellationToken) =>
        await jobs.FindAsync(id, cancellationToken) is { } job ? TrainingJobResponse.From(job, paths) : JobNotFound(id);

    /// <summary>Cancels a queued or running job (API key required). A cancelled job publishes nothing.</summary>
    /// <response code="202">Cancellation requested; a queued job is cancelled at once, a running one within about a second.</response>
    /// <response code="401">The X-Api-Key header is missing or wrong.</response>
    /// <response code="404">No such job.</response>
    /// <response code="409">The job has already finished.</response>
    [HttpDelete("{id:guid}", Name = "cancelTrainingJob")]
    [Authorize]
    [ProducesResponseType<TrainingJobResponse>(StatusCodes.Status202Accepted)]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status401Unauthorized, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status404NotFound, "application/problem+json")]
    [ProducesResponseType<ProblemDetails>(StatusCodes.Status409Conflict, "application/problem+json")]
    public async Task<ActionResult<TrainingJobResponse>> Cancel(Guid id, CancellationToken cancellationToken)
    {
        var (requested, job) = await jobs.RequestCancellationAsync(id, cancellationToken);
        if (job is null) return JobNotFound(id);
        if (!requested)
        {
            return new Problem(ProblemKinds.TrainingJobFinished, $"Job {id} is {job.State.ToString().ToLowerInvariant()}.");
        }
        return Accepted(TrainingJobResponse.From(job, paths));
    }

    private static Problem JobNotFound(Guid id) => new(ProblemKinds.NotFound, $"No training job {id} is known.");
}
