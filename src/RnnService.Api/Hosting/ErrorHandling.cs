using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using RnnService.Api.Predictions;
using RnnService.Core.Serving;
using RnnService.Core.Jobs;

namespace RnnService.Api.Hosting;

public static class ErrorHandling
{
    /// <summary>RFC 9457 problem details for every error: validation, status codes without a body, and exceptions.</summary>
    public static IServiceCollection AddProblemDetailsEverywhere(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
            context.ProblemDetails.Extensions["traceId"] = context.HttpContext.TraceIdentifier);
        services.AddExceptionHandler<KnownExceptionHandler>();
        // Minimal APIs otherwise answer a body they cannot bind with a bare 400; thrown, it gets its reason (below).
        services.Configure<RouteHandlerOptions>(routes => routes.ThrowOnBadRequest = true);
        return services;
    }
}

/// <summary>Turns the exceptions a client can cause or wait out into their status codes; everything else stays a 500.</summary>
internal sealed class KnownExceptionHandler(IProblemDetailsService problemDetails) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is InvalidPriorException prior)
        {
            // Checked against the served model, so after the validator: answered as the validator would, naming the field.
            httpContext.Response.StatusCode = StatusCodes.Status400BadRequest;
            return await problemDetails.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = httpContext,
                Exception = exception,
                ProblemDetails = new HttpValidationProblemDetails(new Dictionary<string, string[]> { [PriorChoices.FieldOf(prior)] = [prior.Message] })
                {
                    Status = StatusCodes.Status400BadRequest,
                },
            });
        }
        (int Status, string Title)? known = exception switch
        {
            ModelUnavailableException => (StatusCodes.Status503ServiceUnavailable, "No model is being served."),
            TooManyRequestsException => (StatusCodes.Status429TooManyRequests, "Too many requests."),
            ServiceBusyException => (StatusCodes.Status503ServiceUnavailable, "The service is busy."),
            JobStoreUnavailableException => (StatusCodes.Status503ServiceUnavailable, "The training job store is unavailable."),
            BadHttpRequestException bad => (bad.StatusCode, bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "Request body too large." : "Bad request."),
            _ => null,
        };
        if (known is not { } problem) return false;
        // A body that does not parse: the JSON reader's message says where ("... Path: $.name | LineNumber: 0 ...").
        var detail = exception.InnerException is JsonException json ? $"The request body is not valid JSON for this endpoint: {json.Message}" : exception.Message;
        httpContext.Response.StatusCode = problem.Status;
        if (exception is TooManyRequestsException or ServiceBusyException)
        {
            var wait = (exception as TooManyRequestsException)?.RetryAfter ?? TimeSpan.FromSeconds(1);
            httpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = problem.Status, Title = problem.Title, Detail = detail },
        });
    }
}
