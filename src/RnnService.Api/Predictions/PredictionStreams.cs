using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using RnnService.Api.Hosting;
using RnnService.Api.Models;
using RnnService.Core.Scoring;

namespace RnnService.Api.Predictions;

/// <summary>Limits of POST /api/predictions/stream (section <c>Streaming</c>).</summary>
public sealed class StreamingOptions
{
    public const string Section = "Streaming";

    /// <summary>The largest body a stream may have; it replaces the JSON endpoints' small cap for this endpoint only.</summary>
    [Range(1L, long.MaxValue)]
    public long MaxBodyBytes { get; set; } = 1L << 30;
}

/// <summary>The query of POST /api/predictions/stream: which column holds the names and what to add to each row.</summary>
public sealed record StreamPredictionQuery
{
    /// <summary>The CSV column (an exact match wins, else case is ignored) or NDJSON member with the name; default "name".</summary>
    [FromQuery(Name = "column")]
    [StringLength(200, MinimumLength = 1)]
    public string? Column { get; init; }

    /// <summary>Also add the K most probable languages with their probabilities (0, the default, for none).</summary>
    [FromQuery(Name = "top")]
    [Range(0, 100)]
    public int? Top { get; init; }

    /// <summary>Coverage of each row's prediction set: 0.8, 0.9 (default) or 0.95.</summary>
    [FromQuery(Name = "coverage")]
    [CoverageLevel]
    public double? Coverage { get; init; }

    /// <summary>The language prior: data (the training frequencies, the default), uniform, or weights such as German=2,Italian=1.</summary>
    [FromQuery(Name = "prior")]
    [StringLength(10_000)]
    public string? Prior { get; init; }

    /// <summary>Stop at the first bad row: a 400 problem if nothing was sent yet, else the connection is cut.</summary>
    [FromQuery(Name = "strict")]
    public bool? Strict { get; init; }
}

/// <summary>
/// Streams a CSV, TSV, NDJSON or plain body through Core's bulk scoring with one model version and writes the scored
/// rows back as they come, in the same format.
/// </summary>
/// <remarks>
/// A stream is bulk work: it takes one of the few bulk turns for its whole length (so single predictions keep a
/// core), and its names count against the client's names per window as each chunk is sent; when the budget is spent
/// the stream waits for the next window, so a large file slows to the client's rate instead of failing midway.
/// </remarks>
public sealed class PredictionStreams(ModelHost host, ClientLimits limits, IOptions<StreamingOptions> options, ILogger<PredictionStreams> logger)
{
    public const string ModelVersionHeader = "X-Model-Version";

    /// <summary>
    /// The scored stream for this request, once it has a bulk turn; a 415 problem for a body that is none of the
    /// formats. Throws (429, 503) when the client has no names left in this window or the bulk queue is full.
    /// </summary>
    public async Task<Results<StreamedScores, ProblemHttpResult>> OpenAsync(HttpContext context, StreamPredictionQuery query)
    {
        if (BulkFormats.FromMediaType(context.Request.ContentType) is not { } format)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "Unsupported media type.",
                detail: "Send text/csv (with a header row), text/tab-separated-values, application/x-ndjson or text/plain (one name per line).");
        }
        limits.TakeNames(context, 1);                 // a client whose budget is spent hears so before anything is read
        var turn = await limits.EnterBulkAsync(context.RequestAborted);
        try
        {
            var prior = PriorText.Parse(query.Prior);
            var lease = host.Acquire() ?? throw new ModelUnavailableException();
            try
            {
                var scorer = new NameScorer(lease.Model.Predictor, query.Top ?? 0, query.Coverage, prior);
                var bulk = new BulkOptions(query.Column ?? "name", query.Strict ?? false);
                return new StreamedScores(new StreamTurn(turn, lease, limits), scorer, format, bulk, options.Value.MaxBodyBytes, logger);
            }
            catch
            {
                lease.Dispose();
                throw;
            }
        }
        catch
        {
            turn.Dispose();
            throw;
        }
    }
}

/// <summary>What a stream holds while it runs: its bulk turn and its model lease, and the limits it counts names against.</summary>
public sealed class StreamTurn(RateLimitLease turn, ModelLease model, ClientLimits limits) : IDisposable
{
    public ClientLimits Limits { get; } = limits;

    public void Dispose()
    {
        model.Dispose();
        turn.Dispose();
    }
}

/// <summary>
/// The answer of one stream request: the body is read and scored chunk by chunk and each chunk written out at once, so
/// memory stays flat; the client going away cancels the work.
/// </summary>
public sealed class StreamedScores(StreamTurn turn, NameScorer scorer, BulkFormat format, BulkOptions options, long maxBodyBytes, ILogger logger) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        using var _ = turn;
        var response = httpContext.Response;
        if (httpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = maxBodyBytes;
        response.ContentType = format.DefaultOutput().MediaType();
        response.Headers[PredictionStreams.ModelVersionHeader] = scorer.ModelVersion.ToString(CultureInfo.InvariantCulture);
        var progress = new LastProgress();
        var aborted = httpContext.RequestAborted;
        logger.LogInformation("Streaming {Format} rows with model version {Version} and the {Prior} prior", format, scorer.ModelVersion, scorer.Prior);
        try
        {
            var summary = await BulkScoring.ScoreAsync(
                httpContext.Request.Body, format, response.Body, format.DefaultOutput(), scorer, options, progress,
                (rows, cancellationToken) => turn.Limits.WaitForNamesAsync(httpContext, rows, cancellationToken), aborted);
            logger.LogInformation("Streamed {Rows} rows ({Failed} bad) as {Format} with model version {Version}", summary.Rows, summary.Failed, format, summary.ModelVersion);
        }
        catch (Exception exception) when (aborted.IsCancellationRequested && exception is OperationCanceledException or IOException)
        {
            logger.LogInformation("Stream client went away after {Rows} rows; scoring stopped", progress.Last.Rows);
        }
        catch (BulkInputException exception) when (!response.HasStarted)
        {
            var problem = TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The input cannot be scored.", detail: exception.Message);
            if (exception.Line is { } line) problem.ProblemDetails.Extensions["line"] = line;
            response.Headers.Remove(PredictionStreams.ModelVersionHeader);
            await problem.ExecuteAsync(httpContext);
        }
        catch (Exception exception) when (response.HasStarted && exception is BulkInputException or BadHttpRequestException)
        {
            // Rows are already out with a 200: cutting the connection is the only way left to tell the client the answer is incomplete.
            logger.LogWarning("Stream stopped after {Rows} rows and the connection was cut: {Reason}", progress.Last.Rows, exception.Message);
            httpContext.Abort();
        }
    }

    private sealed class LastProgress : IProgress<BulkProgress>
    {
        public BulkProgress Last { get; private set; }

        public void Report(BulkProgress value) => Last = value;
    }
}
