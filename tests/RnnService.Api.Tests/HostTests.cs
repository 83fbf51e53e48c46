using System.Net;
using System.Text.Json;

namespace RnnService.Api.Tests;

public sealed class HostTests
{
    [Fact]
    public async Task SwaggerDescribesEveryEndpointAndTheApiKeyScheme()
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClient();

        var document = await (await client.GetAsync("/swagger/v1/swagger.json")).ReadAsync<JsonElement>();

        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(
            ["/api/models", "/api/models/current", "/api/models/{version}", "/api/models/{version}/activate", "/api/models/{version}/card",
             "/api/predictions", "/api/predictions/batch", "/api/predictions/explain", "/api/predictions/stream", "/api/training", "/api/training/{id}"],
            paths.Order(StringComparer.Ordinal));
        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey");
        Assert.Equal("X-Api-Key", scheme.GetProperty("name").GetString());
        Assert.Equal("header", scheme.GetProperty("in").GetString());
        var start = document.GetProperty("paths").GetProperty("/api/training").GetProperty("post");
        Assert.True(start.TryGetProperty("security", out _));
        Assert.Equal(0, document.GetProperty("paths").GetProperty("/api/predictions").GetProperty("post").GetProperty("security").GetArrayLength());
        Assert.False(string.IsNullOrEmpty(start.GetProperty("summary").GetString()));
        Assert.True(start.GetProperty("responses").TryGetProperty("409", out _));
        var schemas = document.GetProperty("components").GetProperty("schemas");
        Assert.Equal("Nakamura", schemas.GetProperty("PredictionRequest").GetProperty("properties").GetProperty("name").GetProperty("example").GetString());
        Assert.Equal("Japanese", schemas.GetProperty("PredictionResponse").GetProperty("example").GetProperty("languages")[0].GetProperty("language").GetString());
    }

    [Fact]
    public async Task SwaggerUiIsServed()
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClient();

        var page = await client.GetAsync("/swagger/index.html");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("swagger-ui", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PredictionsOverTheRateLimitGet429WithRetryAfter()
    {
        await using var app = new RnnServiceApp(modelsDirectory: null, new() { ["RateLimiting:PredictionsPerWindow"] = "3", ["RateLimiting:Window"] = "00:01:00" });
        using var client = app.CreateClient();

        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < 5; i++) responses.Add(await client.PostJsonAsync("/api/predictions", new { name = "Lopez" }));

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests],
            responses.Select(r => r.StatusCode));
        Assert.InRange(responses[3].Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 60);
        await responses[3].ReadProblemAsync();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/models")).StatusCode); // other endpoints are not limited
    }

    [Fact]
    public async Task UnknownRoutesAreProblems()
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClient();

        var response = await client.GetAsync("/api/nothing-here");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        await response.ReadProblemAsync();
    }

    [Theory]
    [InlineData("Serving:TorchThreads", "0", "TorchThreads")]
    [InlineData("Serving:PollInterval", "00:00:00", "PollInterval")]
    [InlineData("Training:PromotionTolerance", "2", "PromotionTolerance")]
    [InlineData("RateLimiting:PredictionsPerWindow", "0", "PredictionsPerWindow")]
    public void AnOutOfRangeSettingStopsStartupNamingIt(string setting, string value, string name)
    {
        using var app = new RnnServiceApp(modelsDirectory: null, new() { [setting] = value });

        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => app.CreateClient());

        Assert.Contains(name, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MetricsExposeRequestsPredictionsTheModelAndTraining()
    {
        await using var app = new RnnServiceApp();
        using var client = app.CreateClientWithKey();
        await client.PostJsonAsync("/api/predictions", new { name = "Rossini" });
        var started = await client.PostJsonAsync("/api/training", new { members = 1, hiddenSize = 8, epochs = 2 });
        await TrainingTests.WaitUntilFinished(client, started.Headers.Location!);

        var metrics = await client.GetStringAsync("/metrics");

        Assert.Contains("http_request_duration_seconds_bucket{code=\"200\",method=\"POST\",controller=\"\",action=\"\",endpoint=\"/api/predictions\"", metrics, StringComparison.Ordinal);
        Assert.Contains("http_requests_received_total{code=\"202\",method=\"POST\",controller=\"Training\"", metrics, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^rnnservice_predictions_total\{language=""Italian""\} [1-9]", metrics);
        Assert.Matches(@"(?m)^rnnservice_training_jobs_total\{outcome=""succeeded""\} [1-9]", metrics);
        Assert.Matches(@"(?m)^rnnservice_training_epoch_duration_seconds_count [1-9]", metrics);
        // Process-wide gauges: other hosts in this test process may have loaded other versions since.
        Assert.Matches(@"(?m)^rnnservice_model_version [1-9]\d*$", metrics);
        Assert.Matches(@"(?m)^rnnservice_model_load_duration_seconds \d+(\.\d+)?(E-\d+)?$", metrics);
    }
}
