namespace RnnService.Api.Hosting;

public static class SecurityHeaders
{
    /// <summary>
    /// Headers that keep the page safe to embed nowhere and to run only its own scripts: no MIME sniffing, no framing,
    /// no referrer, and a content security policy allowing only same-origin scripts, styles and requests. Swagger UI
    /// keeps its own inline bootstrap, so the policy skips /swagger.
    /// </summary>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        if (!context.Request.Path.StartsWithSegments("/swagger", StringComparison.Ordinal))
        {
            headers.ContentSecurityPolicy =
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
                + "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
        }
        await next(context);
    });
}
