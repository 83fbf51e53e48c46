using RnnService.Api.Hosting;
using RnnService.Api.Predictions;
using RnnService.Api.Security;
using RnnService.Api.Training;
using Prometheus;
using Serilog;

var builder = WebApplication.CreateBuilder(args);

builder.AddSerilogLogging();                          // structured console logs (Serilog)
builder.Services.AddServiceJson();                    // one JSON contract: documented fields only, plain UTF-8 answers
builder.Services.AddProblemDetailsEverywhere();       // RFC 9457 problem details for every error
builder.Services.AddApiKeyAuthentication();           // X-Api-Key for training and activation
builder.Services.AddPredictionRateLimiting();         // per-client limits on predictions, 429 + Retry-After
builder.Services.AddKestrelLimits(builder.Configuration);     // body size, connections, slow clients
builder.Services.AddApiControllers();                 // thin controllers for training and models
builder.Services.AddPredictionEndpoints();            // the hot path: minimal-API prediction endpoints, validated
builder.Services.AddSwaggerDocs();                    // OpenAPI + Swagger UI
builder.Services.AddModelServing();                   // model store, hot-swapped served model, folder watcher
builder.Services.AddTrainingWorker();                 // training jobs in the shared job store, and a worker
builder.Services.AddModelHealthChecks();              // /health/live and /health/ready
builder.Services.AddServiceMetrics();                 // Prometheus metrics at /metrics

var app = builder.Build();

app.UseTorchThreads();
app.Services.GetRequiredService<ApiKeyProvider>();   // logs a generated key at startup, if none is configured
app.UseSerilogRequestLogging(requests => requests.Logger = app.Services.GetRequiredService<Serilog.ILogger>());
app.UseHttpMetrics();                                 // request counts and latency histograms per endpoint
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseSecurityHeaders();                             // CSP, no framing, no sniffing
app.UseDefaultFiles();                                // the web page at / (wwwroot/index.html)
app.UseStaticFiles();
app.UseSwagger();
app.UseSwaggerUI();
app.UseRateLimiter();
app.UseAuthentication();
app.UseAuthorization();
app.MapControllers();
app.MapPredictionEndpoints();
app.MapHealthEndpoints();
app.MapProblemTypes();                                // what each problem type URI means, at /problems/{code}
app.MapMetrics();                                     // Prometheus format at /metrics

app.Lifetime.ApplicationStarted.Register(() =>
    app.Logger.LogInformation("Swagger UI: {Urls}", string.Join(", ", app.Urls.Select(url => url.TrimEnd('/') + "/swagger"))));

app.Run();

/// <summary>The web host's entry point; public so integration tests can start it.</summary>
public partial class Program;
