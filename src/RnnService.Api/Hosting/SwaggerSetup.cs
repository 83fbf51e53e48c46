using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ApiExplorer;
using Microsoft.AspNetCore.Mvc.Controllers;
using Microsoft.AspNetCore.Mvc.Formatters;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.OpenApi;
using RnnService.Api.Predictions;
using RnnService.Api.Security;
using RnnService.Api.Training;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace RnnService.Api.Hosting;

/// <summary>
/// The OpenAPI document (Swashbuckle, from the XML docs and response attributes), held to what the service really does:
/// every operation has an id, a summary, and every status it can answer with its media types; fields the service
/// always sends are required and non-nullable; problems are described as the service writes them. CI lints it with
/// redocly's recommended rules and calls the service through a client generated from it (tests/contract).
/// </summary>
/// <remarks>
/// /health/*, /metrics and /problems/{code} stay out of the document: they are for orchestrators, Prometheus and
/// people following a problem's type link, not for API clients; the README documents them.
/// </remarks>
public static class SwaggerSetup
{
    public static IServiceCollection AddSwaggerDocs(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(swagger =>
        {
            swagger.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "RnnService",
                Version = "v1",
                Description = "Which language a family name comes from, by a character-level RNN the service trains itself. "
                    + "Predictions are open; training and activation need the X-Api-Key header (use Authorize). "
                    + "Every error is an RFC 9457 problem with a machine-readable code; GET /problems/{code} describes each.",
                License = new OpenApiLicense { Name = "MIT", Url = new Uri("https://opensource.org/license/mit") },
            });
            // Relative: the document never repeats the Host header a client sent.
            swagger.AddServer(new OpenApiServer { Url = "/", Description = "The instance that serves this document." });
            swagger.IncludeXmlComments(Path.Combine(AppContext.BaseDirectory, "RnnService.Api.xml"), includeControllerXmlComments: true);
            swagger.AddSecurityDefinition(ApiKeyAuthenticationHandler.SchemeName, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiKeyAuthenticationHandler.Header,
                Description = "The service's API key (configuration Security:ApiKey; generated and logged at startup if unset).",
            });
            swagger.SupportNonNullableReferenceTypes();
            swagger.MapType<TimeSpan>(() => new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Pattern = @"^-?(\d+\.)?\d{2}:\d{2}:\d{2}(\.\d{1,7})?$",
                Description = "A duration, [d.]hh:mm:ss[.fffffff].",
                Example = JsonValue.Create("00:00:01.1300000"),
            });
            swagger.OperationFilter<ApiKeyRequirementFilter>();
            swagger.OperationFilter<EveryResponseFilter>();
            swagger.SchemaFilter<AlwaysSentFieldsFilter>();
            swagger.SchemaFilter<ProblemSchemaFilter>();
            swagger.SchemaFilter<ExamplesFilter>();
            swagger.DocumentFilter<TagsFilter>();
        });
        return services;
    }

    /// <summary>Operations with [Authorize] need the API key; every other one says it needs nothing (<c>security: []</c>).</summary>
    private sealed class ApiKeyRequirementFilter : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            operation.Security = [];
            if (!context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().Any()) return;
            operation.Security.Add(new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference(ApiKeyAuthenticationHandler.SchemeName, context.Document)] = [],
            });
        }
    }

    /// <summary>
    /// Every status an operation can answer, with each media type: all of an action's [ProducesResponseType] (API
    /// Explorer keeps one per status, which hid the model card's text/markdown), 406 wherever MVC negotiates (controllers
    /// answer only application/json), 413 and 415 wherever a body is read, 429 wherever a per-client limit or the wrong-key
    /// lockout applies, and problems as application/problem+json.
    /// </summary>
    private sealed class EveryResponseFilter : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            operation.Responses ??= [];
            var declared = context.MethodInfo?.GetCustomAttributes<ProducesResponseTypeAttribute>() ?? [];
            foreach (var attribute in declared)
            {
                var mediaTypes = new MediaTypeCollection();
                ((IApiResponseMetadataProvider)attribute).SetContentTypes(mediaTypes);
                if (mediaTypes.Count == 0 || attribute.Type is null || attribute.Type == typeof(void)) continue;
                var response = Response(operation, attribute.StatusCode);
                foreach (var mediaType in mediaTypes)
                {
                    response.Content![mediaType] = new OpenApiMediaType { Schema = context.SchemaGenerator.GenerateSchema(attribute.Type, context.SchemaRepository) };
                }
            }
            var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
            // Per-client limits, and the lockout after wrong API keys.
            if (metadata.OfType<EnableRateLimitingAttribute>().Any() || metadata.OfType<IAuthorizeData>().Any())
            {
                AddProblem(operation, context, StatusCodes.Status429TooManyRequests, "Over this client's limit; Retry-After says when to try again.");
            }
            var isController = context.ApiDescription.ActionDescriptor is ControllerActionDescriptor;
            if (isController) AddProblem(operation, context, StatusCodes.Status406NotAcceptable, "The Accept header names no media type this operation produces.");
            if (operation.RequestBody is not null)
            {
                AddProblem(operation, context, StatusCodes.Status413PayloadTooLarge, "The request body is over the size limit.");
                AddProblem(operation, context, StatusCodes.Status415UnsupportedMediaType, "The body was not sent as application/json.");
            }
            foreach (var (status, response) in operation.Responses)
            {
                if (response.Content is null) continue;
                // Controllers also list text/plain and text/json, which they never send.
                foreach (var unused in response.Content.Keys.Where(type => type is "text/plain" or "text/json").ToArray()) response.Content.Remove(unused);
                if (status.StartsWith('4') || status.StartsWith('5'))
                {
                    var schema = context.SchemaGenerator.GenerateSchema(
                        status == "400" ? typeof(HttpValidationProblemDetails) : typeof(ProblemDetails), context.SchemaRepository);
                    response.Content.Clear();
                    response.Content["application/problem+json"] = new OpenApiMediaType { Schema = schema };
                }
            }
        }

        private static OpenApiResponse Response(OpenApiOperation operation, int status)
        {
            var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (operation.Responses!.TryGetValue(key, out var existing) && existing is OpenApiResponse concrete)
            {
                concrete.Content ??= new Dictionary<string, OpenApiMediaType>();
                return concrete;
            }
            var created = new OpenApiResponse { Description = ReasonPhrase(status), Content = new Dictionary<string, OpenApiMediaType>() };
            operation.Responses[key] = created;
            return created;
        }

        private static void AddProblem(OpenApiOperation operation, OperationFilterContext context, int status, string description)
        {
            var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (operation.Responses!.ContainsKey(key)) return;
            operation.Responses[key] = new OpenApiResponse
            {
                Description = description,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/problem+json"] = new() { Schema = context.SchemaGenerator.GenerateSchema(typeof(ProblemDetails), context.SchemaRepository) },
                },
            };
        }

        private static string ReasonPhrase(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
    }

    /// <summary>
    /// An answer sends every field: each is required, and nullable only where its C# type allows null. The exception is a
    /// field written only when set (<c>JsonIgnore WhenWritingNull</c>): optional, and never null on the wire. Requests
    /// declare what they require with [Required]; everything else in them is optional.
    /// </summary>
    private sealed class AlwaysSentFieldsFilter : ISchemaFilter
    {
        public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
        {
            if (schema is not OpenApiSchema { Properties.Count: > 0 } concrete || context.Type.IsAssignableTo(typeof(ProblemDetails))) return;
            foreach (var property in context.Type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                var name = property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(property.Name);
                if (!concrete.Properties!.TryGetValue(name, out var propertySchema)) continue;
                var writtenOnlyWhenSet = property.GetCustomAttribute<JsonIgnoreAttribute>()?.Condition == JsonIgnoreCondition.WhenWritingNull;
                if (writtenOnlyWhenSet && propertySchema is OpenApiSchema optional) optional.Type &= ~JsonSchemaType.Null;
                if (writtenOnlyWhenSet || IsRequest(context.Type)) continue;
                concrete.Required ??= new SortedSet<string>(StringComparer.Ordinal);
                concrete.Required.Add(name);
            }
        }

        private static bool IsRequest(Type type) => type.Name.EndsWith("Request", StringComparison.Ordinal);
    }

    /// <summary>Problems as the service writes them: type, title, status, detail, code and traceId always; errors for validation.</summary>
    private sealed class ProblemSchemaFilter : ISchemaFilter
    {
        public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
        {
            if (schema is not OpenApiSchema concrete || !context.Type.IsAssignableTo(typeof(ProblemDetails))) return;
            var validation = context.Type.IsAssignableTo(typeof(HttpValidationProblemDetails));
            concrete.Description = "An RFC 9457 problem. Act on code; type is /problems/{code}, which describes the kind in words.";
            concrete.AdditionalPropertiesAllowed = false;
            concrete.AdditionalProperties = null;
            concrete.Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "uri-reference", Description = "/problems/{code}." },
                ["title"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The kind of problem in words; the same for every problem of a code." },
                ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Description = "The HTTP status." },
                ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "What went wrong this time, in words, with the limits that apply." },
                ["code"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    Description = "The kind of problem, for programs (README, Errors).",
                    Enum = ProblemKinds.All.Select(kind => (JsonNode)JsonValue.Create(kind.Code)).ToList(),
                },
                ["traceId"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The request's id, as in the server's log lines." },
                ["jobId"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "uuid", Description = "training-job-active: the active job." },
                ["retryAfterSeconds"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Description = "rate-limited: seconds to wait, as in Retry-After." },
            };
            concrete.Required = new SortedSet<string>(["type", "title", "status", "detail", "code", "traceId"], StringComparer.Ordinal);
            if (validation)
            {
                concrete.Properties["errors"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Description = "validation: each failing field under its JSON name (name, names[3], hiddenSize), with what it takes.",
                    AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
                };
            }
            concrete.Example = JsonNode.Parse(validation
                ? """
                  {"type": "/problems/validation", "title": "The request has invalid fields.", "status": 400,
                   "detail": "See errors: top must be between 1 and 100.", "code": "validation",
                   "traceId": "0HNQFB8HS3MMB:00000001", "errors": {"top": ["top must be between 1 and 100."]}}
                  """
                : """
                  {"type": "/problems/not-found", "title": "Not found.", "status": 404, "detail": "Model version 7 does not exist.",
                   "code": "not-found", "traceId": "0HNQFB8RD89P9:00000001"}
                  """);
        }
    }

    /// <summary>Example answers, so Swagger UI and generated clients show what one looks like before anyone calls.</summary>
    private sealed class ExamplesFilter : ISchemaFilter
    {
        private const string Prediction = """
            {"name": "Nakamura", "normalizedName": "nakamura", "modelVersion": 1,
             "languages": [{"language": "Japanese", "probability": 0.9962}, {"language": "Arabic", "probability": 0.0017}, {"language": "Russian", "probability": 0.0014}],
             "confidence": 0.9962, "uncertain": false, "reasons": [],
             "predictionSet": {"coverage": 0.9, "languages": ["Japanese"]}, "transliterated": false, "prior": "data"}
            """;

        private const string Explanation = """
            {"name": "Ng", "normalizedName": "ng", "modelVersion": 1,
             "steps": [
               {"position": 1, "character": "n", "known": true, "hidden": [0.7616, -0.2913, 0.0561], "norm": 5.02,
                "languages": [{"language": "Russian", "probability": 0.41}, {"language": "English", "probability": 0.22}, {"language": "Vietnamese", "probability": 0.03}]},
               {"position": 2, "character": "g", "known": true, "hidden": [0.9051, 0.1204, -0.6633], "norm": 6.87,
                "languages": [{"language": "Vietnamese", "probability": 0.71}, {"language": "Chinese", "probability": 0.21}, {"language": "Korean", "probability": 0.05}]}],
             "prediction": {"name": "Ng", "normalizedName": "ng", "modelVersion": 1, "languages": [{"language": "Vietnamese", "probability": 0.71}],
                            "confidence": 0.71, "uncertain": false, "reasons": [], "predictionSet": {"coverage": 0.9, "languages": ["Vietnamese", "Chinese"]},
                            "transliterated": false, "prior": "data"}}
            """;

        private const string TrainingJob = """
            {"id": "4c070bf4-8c8a-4c3f-8b23-be3f4251d5df", "state": "Running",
             "config": {"hiddenSize": 128, "epochs": 10, "batchSize": 128, "learningRate": 0.01, "schedule": "Cosine", "weightDecay": 0.2,
                        "gradientClipNorm": 5, "classWeightExponent": 0.3, "unknownCharacterRate": 0.05, "earlyStoppingPatience": 0, "seed": 1,
                        "splitSeed": 2024, "validationFraction": 0.1, "testFraction": 0.1, "initialization": "Orthogonal", "outputBias": true,
                        "precision": "Float32", "batching": "LengthGrouped", "shuffleEachEpoch": true, "checkpoint": "ValidationMacroF1",
                        "warmupEpochs": 2, "labelSmoothing": 0.1, "decayOutputBias": false, "accentStrippedCopies": false, "boundaryMarks": true,
                        "ngramBuckets": 4096, "bidirectional": true, "members": 4, "supplementaryNames": true},
             "createdAt": "2026-12-01T03:35:42+00:00", "startedAt": "2026-12-01T03:35:42+00:00", "finishedAt": null,
             "epochs": [{"epoch": 1, "epochs": 40, "trainingLoss": 1.52, "trainingAccuracy": 0.58, "validationLoss": 1.21,
                         "validationAccuracy": 0.66, "validationMacroF1": 0.41, "learningRate": 0.0098, "elapsed": "00:00:00.4100000"}],
             "modelVersion": null, "promoted": null, "promotionNote": null, "error": null, "cancelRequested": false}
            """;

        public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
        {
            if (schema is not OpenApiSchema concrete) return;
            var example = context.Type switch
            {
                _ when context.Type == typeof(PredictionResponse) => Prediction,
                _ when context.Type == typeof(ExplainResponse) => Explanation,
                _ when context.Type == typeof(BatchPredictionResponse) => $$"""{"results": [{{Prediction}}], "modelVersion": 1}""",
                _ when context.Type == typeof(TrainingJobResponse) => TrainingJob,
                _ => null,
            };
            if (example is not null) concrete.Example = JsonNode.Parse(example);
            if (concrete.Properties?.TryGetValue("prior", out var prior) == true
                && (context.Type == typeof(PredictionRequest) || context.Type == typeof(BatchPredictionRequest) || context.Type == typeof(ExplainRequest)))
            {
                concrete.Properties["prior"] = PriorSchema(prior.Description);
            }
        }

        /// <summary>A prior is free-form JSON to the serializer; described here as what it may be: a name or language → weight.</summary>
        private static OpenApiSchema PriorSchema(string? description) => new()
        {
            Description = description,
            OneOf =
            [
                new OpenApiSchema { Type = JsonSchemaType.String, Enum = [JsonValue.Create("data"), JsonValue.Create("uniform")] },
                new OpenApiSchema { Type = JsonSchemaType.Object, AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Number } },
            ],
            Example = JsonValue.Create("uniform"),
        };
    }

    /// <summary>A description for every tag (controllers bring theirs from their XML summary; the endpoints' group does not).</summary>
    private sealed class TagsFilter : IDocumentFilter
    {
        public void Apply(OpenApiDocument document, DocumentFilterContext context)
        {
            document.Tags ??= new HashSet<OpenApiTag>();
            var descriptions = new Dictionary<string, string>
            {
                ["Predictions"] = "Which language a family name comes from: one name, a batch, or step by step. Open to all, rate-limited per client.",
                ["Training"] = "Retraining over HTTP: start, watch and cancel training jobs.",
                ["Models"] = "Model versions in the shared models folder: list, inspect, and choose which one is served.",
            };
            foreach (var tag in document.Tags.Where(tag => tag.Name is not null && descriptions.ContainsKey(tag.Name)).ToArray()) document.Tags.Remove(tag);
            foreach (var (name, description) in descriptions) document.Tags.Add(new OpenApiTag { Name = name, Description = description });
        }
    }
}
