using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;
using RnnService.Api.Predictions;
using RnnService.Api.Security;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace RnnService.Api.Hosting;

public static class SwaggerSetup
{
    /// <summary>OpenAPI document from the XML docs of the controllers and the prediction endpoints, with the API-key scheme on the endpoints that need it.</summary>
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
                    + "Predictions are open; training and activation need the X-Api-Key header (use Authorize).",
            });
            swagger.IncludeXmlComments(Path.Combine(AppContext.BaseDirectory, "RnnService.Api.xml"), includeControllerXmlComments: true);
            swagger.AddSecurityDefinition(ApiKeyAuthenticationHandler.SchemeName, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiKeyAuthenticationHandler.Header,
                Description = "The service's API key (configuration Security:ApiKey; generated and logged at startup if unset).",
            });
            swagger.OperationFilter<ApiKeyRequirementFilter>();
            swagger.SchemaFilter<ResponseExamples>();
        });
        return services;
    }

    /// <summary>Example responses, so Swagger UI shows what a prediction looks like before anyone calls it.</summary>
    private sealed class ResponseExamples : ISchemaFilter
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

        public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
        {
            if (schema is not OpenApiSchema concrete) return;
            if (context.Type == typeof(PredictionResponse)) concrete.Example = JsonNode.Parse(Prediction);
            if (context.Type == typeof(ExplainResponse)) concrete.Example = JsonNode.Parse(Explanation);
            if (context.Type == typeof(BatchPredictionResponse)) concrete.Example = JsonNode.Parse($$"""{"results": [{{Prediction}}], "modelVersion": 1}""");
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

    /// <summary>Marks operations with [Authorize] as needing the API key, so Swagger UI sends it.</summary>
    private sealed class ApiKeyRequirementFilter : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            if (!context.MethodInfo.GetCustomAttributes(inherit: true).OfType<AuthorizeAttribute>().Any()) return;
            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference(ApiKeyAuthenticationHandler.SchemeName, context.Document)] = [],
            });
        }
    }
}
