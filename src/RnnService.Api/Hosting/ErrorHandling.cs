using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Controllers;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using RnnService.Api.Predictions;
using RnnService.Core.Serving;
using RnnService.Core.Jobs;

namespace RnnService.Api.Hosting;

/// <summary>
/// One kind of error: its status, the stable <c>code</c> clients act on, and the <c>type</c> URI (<c>/problems/{code}</c>,
/// which describes it). The title is the kind's and never changes; the detail says what happened this time.
/// </summary>
public sealed record ProblemKind(string Code, int Status, string Title, string Description)
{
    public string Type => "/problems/" + Code;
}

/// <summary>Every kind of error the service answers with (README, "Errors").</summary>
public static class ProblemKinds
{
    public static readonly ProblemKind InvalidJson = new("invalid-json", 400, "The request body is not valid JSON.",
        "The body is not JSON, is not a JSON object, or is empty; the detail says where reading stopped.");
    public static readonly ProblemKind Validation = new("validation", 400, "The request has invalid fields.",
        "errors holds each offending field under its JSON name (name, names[3], hiddenSize) with a sentence that gives the rule: "
        + "a missing field, a value out of range, a wrong JSON type (numbers as strings are refused) or a field the request does not have.");
    public static readonly ProblemKind ApiKeyMissing = new("api-key-missing", 401, "An API key is required.",
        "Training and activation need the service's API key in the X-Api-Key header.");
    public static readonly ProblemKind ApiKeyInvalid = new("api-key-invalid", 401, "The API key is not valid.",
        "The X-Api-Key header does not hold this service's API key.");
    public static readonly ProblemKind NotFound = new("not-found", 404, "Not found.",
        "No such path, model version or training job (jobs are kept in memory; the oldest finished ones are forgotten).");
    public static readonly ProblemKind MethodNotAllowed = new("method-not-allowed", 405, "Method not allowed.",
        "The path exists but not with this HTTP method; the Allow header lists the ones it takes.");
    public static readonly ProblemKind NotAcceptable = new("not-acceptable", 406, "Not acceptable.",
        "The Accept header asks for a media type this operation does not produce (it produces application/json).");
    public static readonly ProblemKind TrainingJobActive = new("training-job-active", 409, "A training job is already active.",
        "One job runs at a time; jobId names the active one. Wait for it to finish or cancel it.");
    public static readonly ProblemKind TrainingJobFinished = new("training-job-finished", 409, "The training job has already finished.",
        "A finished job (succeeded, failed or cancelled) cannot be cancelled.");
    public static readonly ProblemKind BodyTooLarge = new("body-too-large", 413, "The request body is too large.",
        "Request bodies are capped (Http:MaxRequestBodyBytes, 256 KiB by default); the detail gives the limit.");
    public static readonly ProblemKind UnsupportedMediaType = new("unsupported-media-type", 415, "Unsupported media type.",
        "Request bodies must be JSON, sent with Content-Type: application/json.");
    public static readonly ProblemKind ModelUnusable = new("model-unusable", 422, "The model version cannot be served.",
        "The version exists but is corrupt or incompatible; the served model is unchanged.");
    public static readonly ProblemKind RateLimited = new("rate-limited", 429, "Too many requests.",
        "This client sent more requests than its limit allows; Retry-After (and retryAfterSeconds) says when to try again.");
    public static readonly ProblemKind InternalError = new("internal-error", 500, "Internal error.",
        "The service failed to answer; the server log has the details under the response's traceId.");
    public static readonly ProblemKind ModelUnavailable = new("model-unavailable", 503, "No model is being served.",
        "No valid model version is loaded yet; try again once /health/ready reports ready.");
    public static readonly ProblemKind ServiceBusy = new("service-busy", 503, "The service is busy.",
        "Too many batch and explain requests are waiting for their turn; Retry-After (and retryAfterSeconds) says when to try again.");
    public static readonly ProblemKind JobStoreUnavailable = new("job-store-unavailable", 503, "The training job store is unavailable.",
        "Training jobs live in a shared store that cannot be reached now; predictions are unaffected. Try again shortly.");
    public static readonly ProblemKind ModelsFolderUnwritable = new("models-folder-unwritable", 503, "The models folder cannot be written.",
        "Activation could not record the new current version (read-only folder, full disk); the served model is unchanged.");

    public static IReadOnlyList<ProblemKind> All { get; } =
    [
        InvalidJson, Validation, ApiKeyMissing, ApiKeyInvalid, NotFound, MethodNotAllowed, NotAcceptable, TrainingJobActive,
        TrainingJobFinished, BodyTooLarge, UnsupportedMediaType, ModelUnusable, RateLimited, InternalError, ModelUnavailable,
        ServiceBusy, JobStoreUnavailable, ModelsFolderUnwritable,
    ];

    public static ProblemKind? Find(string code) => All.FirstOrDefault(kind => kind.Code == code);

    /// <summary>The kind of an error that only has a status (status-code pages, the framework's own answers).</summary>
    public static ProblemKind ForStatus(int status) => status switch
    {
        400 => InvalidJson,
        401 => ApiKeyMissing,
        404 => NotFound,
        405 => MethodNotAllowed,
        406 => NotAcceptable,
        413 => BodyTooLarge,
        415 => UnsupportedMediaType,
        429 => RateLimited,
        503 => ModelUnavailable,
        _ => InternalError,
    };
}

/// <summary>A problem-details answer of one kind, for controllers and minimal APIs alike, written by the one problem writer.</summary>
public sealed class Problem(ProblemKind kind, string detail) : ActionResult, IResult
{
    public IDictionary<string, object?> Extensions { get; init; } = new Dictionary<string, object?>();

    /// <summary>Failing fields and their messages (validation problems).</summary>
    public IDictionary<string, string[]>? Errors { get; init; }

    public override Task ExecuteResultAsync(ActionContext context) => ExecuteAsync(context.HttpContext);

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = kind.Status;
        var details = Errors is null ? new ProblemDetails() : new HttpValidationProblemDetails(Errors);
        details.Status = kind.Status;
        details.Detail = detail;
        details.Extensions["code"] = kind.Code;
        foreach (var (key, value) in Extensions) details.Extensions[key] = value;
        await httpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = details,
        });
    }

    /// <summary>A problem to wait out: Retry-After in whole seconds, and the same number as <c>retryAfterSeconds</c>.</summary>
    public static Problem RetryLater(HttpContext httpContext, ProblemKind kind, string detail, TimeSpan wait)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        httpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return new Problem(kind, detail) { Extensions = { ["retryAfterSeconds"] = seconds } };
    }

    /// <summary>A body the JSON reader refused: not JSON at all, or a field it could not take (named in <c>errors</c>).</summary>
    public static Problem ForJson(HttpContext httpContext, JsonException exception)
    {
        var (field, message) = JsonField.Describe(JsonField.RequestBodyType(httpContext), exception, httpContext);
        return field is null
            ? new Problem(ProblemKinds.InvalidJson, message)
            : new Problem(ProblemKinds.Validation, message) { Errors = new Dictionary<string, string[]> { [field] = [message] } };
    }
}

public static class ErrorHandling
{
    /// <summary>RFC 9457 problem details for every error: validation, status codes without a body, and exceptions.</summary>
    public static IServiceCollection AddProblemDetailsEverywhere(this IServiceCollection services)
    {
        // Registered before AddProblemDetails' own writer, so it is the one that writes.
        services.AddSingleton<IProblemDetailsWriter, ProblemJsonWriter>();
        services.AddProblemDetails(options => options.CustomizeProblemDetails = Complete);
        services.AddExceptionHandler<KnownExceptionHandler>();
        services.AddSingleton<ServerPaths>();
        services.AddSingleton<RejectionLog>();
        // Minimal APIs otherwise answer a body they cannot bind with a bare 400; thrown, it gets its reason (below).
        services.Configure<RouteHandlerOptions>(routes => routes.ThrowOnBadRequest = true);
        // Post-configured: AddControllers sets its own factory, whichever is registered first.
        services.PostConfigure<ApiBehaviorOptions>(api => api.InvalidModelStateResponseFactory = context => InvalidModelState(context));
        return services;
    }

    /// <summary>GET /problems/{code}: what each <c>type</c> URI means, in words (text/plain), for people following the link.</summary>
    public static IEndpointRouteBuilder MapProblemTypes(this IEndpointRouteBuilder app)
    {
        app.MapGet("/problems/{code}", (string code) => ProblemKinds.Find(code) is { } kind
                ? Results.Text($"{kind.Title} (HTTP {kind.Status}, code {kind.Code})\n\n{kind.Description}\n", "text/plain; charset=utf-8")
                : new Problem(ProblemKinds.NotFound, $"There is no problem type '{code}'."))
            .ExcludeFromDescription();
        return app;
    }

    /// <summary>
    /// Gives every problem, wherever it was made, the same shape: the kind's type URI, title and code (from the status when
    /// the maker gave no code), validation error keys in the request's JSON casing, and the trace id.
    /// </summary>
    internal static void Complete(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var status = problem.Status ?? context.HttpContext.Response.StatusCode;
        var madeHere = problem.Extensions.TryGetValue("code", out var code) && code is string given && ProblemKinds.Find(given) is not null;
        var kind = madeHere
            ? ProblemKinds.Find((string)code!)!
            : problem is HttpValidationProblemDetails ? ProblemKinds.Validation : ProblemKinds.ForStatus(status);
        problem.Type = kind.Type;
        problem.Title = kind.Title;
        problem.Status = status;
        problem.Extensions["code"] = kind.Code;
        problem.Extensions["traceId"] = context.HttpContext.TraceIdentifier;
        if (status is StatusCodes.Status401Unauthorized or StatusCodes.Status429TooManyRequests)
        {
            context.HttpContext.RequestServices.GetRequiredService<RejectionLog>().Record(context.HttpContext, status, kind.Code);
        }
        if (kind == ProblemKinds.InternalError || string.IsNullOrEmpty(problem.Detail)) problem.Detail = DefaultDetail(kind, context.HttpContext);
        if (problem is HttpValidationProblemDetails validation)
        {
            // The minimal-API validator names members as C# does ("Names[3]"); the service's own problems already use JSON names.
            var errors = validation.Errors.ToDictionary(error => madeHere ? error.Key : JsonField.Casing(error.Key), error => error.Value);
            validation.Errors.Clear();
            foreach (var (field, messages) in errors) validation.Errors[field] = messages;
            problem.Detail = "See errors: " + string.Join(" ", errors.SelectMany(error => error.Value).Distinct());
        }
    }

    private static string DefaultDetail(ProblemKind kind, HttpContext httpContext) => kind.Code switch
    {
        "not-found" => "Nothing is found at this path.",
        "body-too-large" => string.Create(CultureInfo.InvariantCulture, $"The request body is larger than the limit of {MaxBodyBytes(httpContext):N0} bytes."),
        _ => kind.Description,
    };

    internal static long? MaxBodyBytes(HttpContext httpContext) => httpContext.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;

    /// <summary>
    /// Controllers' binding failures, worded like the minimal APIs': a JSON failure names its field from the reader's
    /// path and says what the field takes, never the reader's own message (which names .NET types).
    /// </summary>
    private static Problem InvalidModelState(ActionContext context)
    {
        var json = context.ModelState.Values.SelectMany(entry => entry.Errors).Select(error => error.Exception).OfType<JsonException>().FirstOrDefault();
        if (json is not null) return Problem.ForJson(context.HttpContext, json);
        var errors = context.ModelState
            .Where(entry => entry.Value is { Errors.Count: > 0 })
            .ToDictionary(entry => entry.Key, entry => entry.Value!.Errors.Select(error => error.ErrorMessage).ToArray());
        return new Problem(ProblemKinds.Validation, "") { Errors = errors };
    }
}

/// <summary>Names a failing JSON field the way the request spells it, and says in words what the field takes.</summary>
internal static class JsonField
{
    /// <summary>A validator's member path ("Names[3]", "Prior.Language") in the request's camelCase ("names[3]", "prior.language").</summary>
    public static string Casing(string member) =>
        string.Join('.', member.Split('.').Select(part => JsonNamingPolicy.CamelCase.ConvertName(part)));

    /// <summary>The type of the request body the endpoint reads, if any (minimal APIs declare it; controllers name a [FromBody] parameter).</summary>
    public static Type? RequestBodyType(HttpContext httpContext)
    {
        // The exception handler clears the endpoint before it runs; its feature keeps the one that failed.
        var endpoint = httpContext.GetEndpoint() ?? httpContext.Features.Get<IExceptionHandlerFeature>()?.Endpoint;
        if (endpoint?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType is { } accepted) return accepted;
        return endpoint?.Metadata.GetMetadata<ControllerActionDescriptor>()?.Parameters
            .FirstOrDefault(parameter => parameter.BindingInfo?.BindingSource == BindingSource.Body)?.ParameterType;
    }

    /// <summary>
    /// What went wrong at the reader's JSON path: a field the request does not have, or a value of the wrong JSON type
    /// (Field set); or a body that is not a JSON object at all (Field null).
    /// </summary>
    public static (string? Field, string Message) Describe(Type? bodyType, JsonException exception, HttpContext httpContext)
    {
        // The reader's own failure (not JSON, cut short): it says where, in line and byte.
        if (exception.InnerException is JsonException || exception.Path is null || bodyType is null)
        {
            return (null, string.Create(CultureInfo.InvariantCulture,
                $"The request body is not valid JSON: reading stopped at line {exception.LineNumber + 1}, byte {exception.BytePositionInLine + 1}."));
        }
        var options = httpContext.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
        var type = Nullable.GetUnderlyingType(bodyType) ?? bodyType;
        var field = "";
        foreach (var segment in Segments(exception.Path))
        {
            if (segment.Index is { } index)
            {
                field += $"[{index}]";
                type = ElementType(type) ?? type;
                continue;
            }
            var info = options.GetTypeInfo(type);
            var property = info.Properties.FirstOrDefault(p => p.Name == segment.Name);
            var name = field.Length == 0 ? segment.Name! : $"{field}.{segment.Name}";
            if (property is null)
            {
                var known = string.Join(", ", info.Properties.Select(p => p.Name));
                return (name, $"{name} is not a field of this request, which takes: {known}.");
            }
            field = name;
            type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        }
        return field.Length == 0
            ? (null, $"The request body must be a JSON object with the fields: {string.Join(", ", options.GetTypeInfo(bodyType).Properties.Select(p => p.Name))}.")
            : (field, $"{field} must be {JsonTypeInWords(type)}.");
    }

    private static string JsonTypeInWords(Type type) => type switch
    {
        _ when type == typeof(string) => "a string",
        _ when type == typeof(int) || type == typeof(long) => "a whole number (not in quotes)",
        _ when type == typeof(double) || type == typeof(float) || type == typeof(decimal) => "a number (not in quotes)",
        _ when type == typeof(bool) => "true or false",
        _ when ElementType(type) is { } element => $"an array of {Plural(element)}",
        _ => "a JSON object",
    };

    private static string Plural(Type element) => element == typeof(string) ? "strings" : "numbers";

    private static Type? ElementType(Type type) =>
        type == typeof(string) ? null
        : type.IsArray ? type.GetElementType()
        : type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];

    /// <summary>The parts of a reader path such as <c>$.names[3]</c> or <c>$['odd name']</c>.</summary>
    private static IEnumerable<(string? Name, int? Index)> Segments(string path)
    {
        var i = path.StartsWith('$') ? 1 : 0;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                var end = path.IndexOfAny(['.', '['], i + 1);
                if (end < 0) end = path.Length;
                yield return (path[(i + 1)..end], null);
                i = end;
            }
            else if (path.AsSpan(i).StartsWith("['"))
            {
                var end = path.IndexOf("']", i + 2, StringComparison.Ordinal);
                if (end < 0) yield break;
                yield return (path[(i + 2)..end], null);
                i = end + 2;
            }
            else if (path[i] == '[')
            {
                var end = path.IndexOf(']', i);
                if (end < 0 || !int.TryParse(path.AsSpan(i + 1, end - i - 1), CultureInfo.InvariantCulture, out var index)) yield break;
                yield return (null, index);
                i = end + 1;
            }
            else
            {
                yield break;
            }
        }
    }
}

/// <summary>
/// Problem details whatever the request's Accept header asks for (ASP.NET Core's own writer declines when it names no
/// JSON type, leaving a bare status line): an error in no format helps no client, and the document promises this one.
/// </summary>
internal sealed class ProblemJsonWriter(Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        ErrorHandling.Complete(context);
        var problem = context.ProblemDetails;
        return new ValueTask(context.HttpContext.Response.WriteAsJsonAsync(
            problem, problem.GetType(), json.Value.SerializerOptions, "application/problem+json", context.HttpContext.RequestAborted));
    }
}

/// <summary>Turns the exceptions a client can cause or wait out into their kinds of problem; everything else stays a 500.</summary>
internal sealed class KnownExceptionHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        Problem? problem = exception switch
        {
            ModelUnavailableException => new Problem(ProblemKinds.ModelUnavailable, exception.Message),
            // Checked against the served model, so after the validator: answered as the validator would, naming the field.
            InvalidPriorException prior => new Problem(ProblemKinds.Validation, prior.Message)
            {
                Errors = new Dictionary<string, string[]> { [PriorChoices.FieldOf(prior)] = [prior.Message] },
            },
            TooManyRequestsException tooMany => Problem.RetryLater(httpContext, ProblemKinds.RateLimited, tooMany.Message, tooMany.RetryAfter),
            JobStoreUnavailableException => new Problem(ProblemKinds.JobStoreUnavailable, "The training job store cannot be reached; predictions are unaffected."),
            ServiceBusyException => Problem.RetryLater(httpContext, ProblemKinds.ServiceBusy, exception.Message, TimeSpan.FromSeconds(1)),
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => new Problem(ProblemKinds.BodyTooLarge, ""),
            BadHttpRequestException { StatusCode: StatusCodes.Status415UnsupportedMediaType } =>
                new Problem(ProblemKinds.UnsupportedMediaType, "This endpoint takes a JSON body: send it with Content-Type: application/json."),
            BadHttpRequestException { InnerException: JsonException json } => Problem.ForJson(httpContext, json),
            BadHttpRequestException { StatusCode: StatusCodes.Status400BadRequest } =>
                new Problem(ProblemKinds.InvalidJson, "The request body is empty or null; send a JSON object."),
            _ => null,
        };
        if (problem is null) return false;
        await problem.ExecuteAsync(httpContext);
        return true;
    }
}
