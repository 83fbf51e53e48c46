using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;
using RnnService.Api.Security;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace RnnService.Api.Hosting;

public static class SwaggerSetup
{
    /// <summary>OpenAPI document from the controllers' XML docs, with the API-key scheme on the endpoints that need it.</summary>
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
        });
        return services;
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
