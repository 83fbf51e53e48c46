using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using RnnService.Api.Hosting;
using RnnService.Core.Data;

namespace RnnService.Api.Predictions;

/// <summary>
/// Which language a family name comes from: POST /api/predictions, /batch, /explain and /stream.
/// </summary>
/// <remarks>
/// The service's hot path, so these are minimal-API endpoints, not a controller like the other resources: MVC's
/// action invoker, model binding and output formatting cost about as much CPU as a whole trivial request, which capped
/// predictions at 0.45 of /health/live's requests per second; as endpoints they reach 0.63–0.70 (docs/performance.md). The
/// contracts, their DataAnnotations (checked by the minimal-API validator), the problem details and the OpenAPI
/// description are the same. Answers go out through <see cref="PredictionJsonContext"/>'s own type information, because
/// System.Text.Json runs the generated fast-path writer only with a context's own options, not through a resolver chain,
/// and as <see cref="PlainJson{T}"/>, which brings the service's encoder on the writer.
/// </remarks>
public static class PredictionEndpoints
{
    public static IEndpointRouteBuilder MapPredictionEndpoints(this IEndpointRouteBuilder app)
    {
        // Grouped under /api rather than /api/predictions, so the single prediction's route is /api/predictions
        // itself (an empty route in the group would end in a slash, as would its metrics label).
        var predictions = app.MapGroup("/api")
            .WithTags("Predictions")
            .RequireRateLimiting(RateLimiting.PredictionsPolicy)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        predictions.MapPost("/predictions", Predict).WithName("predict").Produces<PredictionResponse>();
        predictions.MapPost("/predictions/batch", PredictBatch).WithName("predictBatch").Produces<BatchPredictionResponse>();
        predictions.MapPost("/predictions/explain", Explain).WithName("explain").Produces<ExplainResponse>();
        predictions.MapPost("/predictions/stream", Stream).WithName("predictStream")
            .Accepts<string>("text/csv", "text/tab-separated-values", "application/x-ndjson", "text/plain")
            .Produces<string>(StatusCodes.Status200OK, "text/csv", "text/tab-separated-values", "application/x-ndjson");
        return app;
    }

    /// <summary>Language probabilities for one family name, with a prediction set and reasons not to trust it.</summary>
    /// <remarks>
    /// Probabilities are calibrated (softmax with the model's fitted temperature) and sorted from most to least
    /// probable. The prediction set holds the true language with the requested coverage. Uncertain answers (low
    /// confidence, unknown characters, unsupported script) still come back, flagged with machine-readable reasons.
    /// Cyrillic and Greek names are romanised first. The response names the model version that answered.
    /// </remarks>
    /// <response code="200">The languages with their probabilities.</response>
    /// <response code="400">The name is missing, too long, or has no letter; the prior is not one the model can answer with; or the JSON is malformed.</response>
    /// <response code="503">No valid model is loaded.</response>
    public static PlainJson<PredictionResponse> Predict(
        [FromBody] PredictionRequest request, PredictionService predictions, ClientLimits limits, HttpContext context)
    {
        limits.TakeNames(context, 1);
        return new(
            predictions.Predict(NameNormalizer.Tidy(request.Name!), request.Top, request.Coverage, request.Prior), PredictionJsonContext.Default.PredictionResponse);
    }

    /// <summary>Language probabilities for up to 1,000 names at once.</summary>
    /// <remarks>
    /// Results come in request order, all from the same model version, each with the caller's id when ids are given.
    /// The names run through the managed fast path one after another, which measured 2.4 times faster for 1,000 names
    /// than one left-padded batched TorchSharp pass (docs/performance.md).
    /// </remarks>
    /// <response code="200">One result per name, in order.</response>
    /// <response code="400">A name is invalid (the error names its index), there are more than 1,000, or the prior is not one the model can answer with.</response>
    /// <response code="503">No valid model is loaded, or too many batch and explain requests are waiting.</response>
    public static async Task<PlainJson<BatchPredictionResponse>> PredictBatch(
        [FromBody] BatchPredictionRequest request, PredictionService predictions, ClientLimits limits, HttpContext context)
    {
        limits.TakeNames(context, request.Names!.Count);
        using var turn = await limits.EnterBulkAsync(context.RequestAborted);
        return new(
            predictions.PredictBatch(request.Names!.Select(name => NameNormalizer.Tidy(name!)).ToArray(), request.Ids, request.Top, request.Coverage, request.Prior),
            PredictionJsonContext.Default.BatchPredictionResponse);
    }

    /// <summary>How the prediction and the hidden state evolve as the RNN reads the name, character by character.</summary>
    /// <remarks>
    /// For each character t: the hidden state h_t (the partial result; the last one is the name's embedding), its norm,
    /// and the languages the model would give if the name ended there, softmax(V·h_t + c). The last step equals
    /// POST /api/predictions for the same name.
    /// </remarks>
    /// <response code="200">One step per character, then the final prediction.</response>
    /// <response code="400">The name is missing, too long, or has no letter; the prior is not one the model can answer with; or the JSON is malformed.</response>
    /// <response code="503">No valid model is loaded.</response>
    public static async Task<PlainJson<ExplainResponse>> Explain(
        [FromBody] ExplainRequest request, PredictionService predictions, ClientLimits limits, HttpContext context)
    {
        limits.TakeNames(context, 1);
        using var turn = await limits.EnterBulkAsync(context.RequestAborted);
        return new(predictions.Explain(NameNormalizer.Tidy(request.Name!), request.Top, request.Prior), PredictionJsonContext.Default.ExplainResponse);
    }

    /// <summary>Scores a whole file of names, of any length, answered as a stream in the same format.</summary>
    /// <remarks>
    /// The body is CSV or TSV with a header row (RFC 4180 quoting, CRLF or LF, an optional byte order mark), NDJSON (one
    /// object per line) or plain text (one name per line, answered as CSV), up to <c>Streaming:MaxBodyBytes</c> (1 GiB).
    /// Every row comes back in input order with all its columns, then language, probability, uncertain, reasons,
    /// prediction_set, the <c>top</c> language/probability pairs, model_version and error. All rows are scored by one
    /// model version, also named in the X-Model-Version header. A bad row (empty, too long or letterless name,
    /// malformed line) gets an error with its line number and the rest goes on, unless <c>strict</c>. The body is read
    /// and answered incrementally: memory stays flat, and a client that disconnects stops the work.
    /// </remarks>
    /// <response code="200">The scored rows, streamed.</response>
    /// <response code="400">A query parameter is invalid, the name column is missing, or (strict) a bad row came before any answer.</response>
    /// <response code="413">The body is longer than Streaming:MaxBodyBytes.</response>
    /// <response code="415">The body is not text/csv, text/tab-separated-values, application/x-ndjson or text/plain.</response>
    /// <response code="429">The client has used its names for this window (the stream then slows to the budget instead).</response>
    /// <response code="503">No valid model is loaded, or too many bulk requests are waiting.</response>
    public static Task<Results<StreamedScores, ProblemHttpResult>> Stream(HttpContext context, [AsParameters] StreamPredictionQuery query, PredictionStreams streams) =>
        streams.OpenAsync(context, query);
}
