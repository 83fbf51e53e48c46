using System.Net;
using System.Text;
using System.Text.Json;

namespace RnnService.Api.Tests;

/// <summary>
/// Generated hostile requests against the public endpoints: every answer must be a 2xx with a valid body or a 4xx with
/// problem details; never a 5xx; the service stays up.
/// </summary>
public sealed class HostileInputTests
{
    private const int Requests = 10_000;

    private static readonly string[] Fragments =
    [
        "😀", "👨‍👩‍👧", "مرحبا", "שלום", "\u202Eevil\u202C", "e\u0301\u0301\u0301", "\u0000", "\u0007", "\t\r\n", "\\ud800", "\\udfff",
        "\\ud83d", "中村", "Иванов", "Ωμέγα", "Müller", "O'Neal", "  ", "\u00A0", "\uFEFF", "ﬀ", "Ｓｃｈｍｉｄｔ", "'; DROP TABLE names;--",
        "<script>alert(1)</script>", "%00", "{{7*7}}", "\\\"", "\\\\",
    ];

    [Fact]
    public async Task TenThousandGeneratedRequestsGetNoServerError()
    {
        await using var app = new RnnServiceApp(modelsDirectory: null, new() { ["RateLimiting:PredictionsPerWindow"] = "1000000" });
        using var client = app.CreateClient();
        var random = new Random(20261126);
        var failures = new List<string>();
        var statuses = new Dictionary<int, int>();

        for (var i = 0; i < Requests; i++)
        {
            using var request = Generate(random);
            var description = $"{request.Method} {request.RequestUri} {(request.Content is null ? "" : await request.Content.ReadAsStringAsync())}";
            using var response = await client.SendAsync(request);
            var status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            var problem = await Check(response);
            if (problem is not null) failures.Add($"{problem}: {Shorten(description)}");
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {Requests} failed, e.g.\n{string.Join("\n", failures.Take(10))}");
        Assert.True(statuses.Keys.Any(s => s < 300) && statuses.Keys.Any(s => s >= 400), string.Join(", ", statuses));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
    }

    private static async Task<string?> Check(HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        var body = await response.Content.ReadAsStringAsync();
        if (status >= 500) return $"{status}";
        if (status >= 400)
        {
            if (response.Content.Headers.ContentType?.MediaType != "application/problem+json") return $"{status} without problem details";
            using var problem = JsonDocument.Parse(body);
            return problem.RootElement.GetProperty("status").GetInt32() == status ? null : $"{status} with a wrong problem status";
        }
        using var document = JsonDocument.Parse(body);
        return document.RootElement.ValueKind is JsonValueKind.Object or JsonValueKind.Array ? null : $"{status} with a body that is not JSON";
    }

    private static HttpRequestMessage Generate(Random random)
    {
        var endpoint = random.Next(10) switch
        {
            < 4 => "/api/predictions",
            < 6 => "/api/predictions/batch",
            < 8 => "/api/predictions/explain",
            8 => "/api/models/" + RandomText(random, 12),
            _ => "/api/training/" + RandomText(random, 40),
        };
        if (endpoint.StartsWith("/api/models/", StringComparison.Ordinal) || endpoint.StartsWith("/api/training/", StringComparison.Ordinal))
        {
            return new HttpRequestMessage(HttpMethod.Get, Uri.EscapeDataString(endpoint).Replace("%2F", "/", StringComparison.Ordinal));
        }
        var (body, contentType) = random.Next(12) switch
        {
            0 => (RandomText(random, random.Next(0, 50)), "application/json"),                                     // not JSON at all
            1 => ($"{{\"name\": {RandomJsonValue(random)}, \"names\": {RandomJsonValue(random)}}}", "application/json"),  // wrong types
            2 => (new string('[', random.Next(1, 2000)) + new string(']', random.Next(0, 2000)), "application/json"),  // deep nesting
            3 => ($"{{\"name\": \"Lopez\", \"top\": {RandomNumber(random)}, \"coverage\": {RandomNumber(random)}}}", "application/json"),
            4 => ($"{{\"name\": \"{RandomName(random)}\"}}", random.Next(3) switch { 0 => "text/plain", 1 => "application/xml", _ => "application/x-www-form-urlencoded" }),
            5 => ($"{{\"name\": \"{RandomName(random)}\", \"extra\": {{\"a\": [1, 2, {{\"b\": null}}]}}, \"names\": [\"{RandomName(random)}\"]}}", "application/json"),
            6 => ($"{{\"names\": [{string.Join(", ", Enumerable.Range(0, random.Next(0, 1200)).Select(_ => $"\"{RandomName(random)}\""))}], \"ids\": [\"a\"]}}", "application/json"),
            7 => ($"{{\"name\": \"{new string('a', random.Next(40, 20_000))}\"}}", "application/json"),                // long names
            _ => ($"{{\"name\": \"{RandomName(random)}\", \"names\": [\"{RandomName(random)}\", \"{RandomName(random)}\"], \"top\": {random.Next(-2, 30)}}}", "application/json"),
        };
        return new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new StringContent(body, Encoding.UTF8, contentType) };
    }

    /// <summary>A JSON string's inside: fragments of hostile Unicode, escapes and ordinary letters.</summary>
    private static string RandomName(Random random)
    {
        var name = new StringBuilder();
        for (var i = random.Next(0, 8); i > 0; i--)
        {
            name.Append(random.Next(3) == 0 ? RandomText(random, random.Next(1, 6)) : Fragments[random.Next(Fragments.Length)]);
        }
        return name.ToString().Replace("\"", "\\\"", StringComparison.Ordinal);
    }

    /// <summary>Random UTF-16 code units, control characters and lone surrogates included, as JSON escapes where needed.</summary>
    private static string RandomText(Random random, int length)
    {
        var text = new StringBuilder();
        for (var i = 0; i < length; i++)
        {
            var unit = random.Next(4) == 0 ? random.Next(0, 0x10000) : random.Next(0x20, 0x7F);
            text.Append(unit is < 0x20 or '"' or '\\' or (>= 0xD800 and <= 0xDFFF) ? $"\\u{unit:x4}" : ((char)unit).ToString());
        }
        return text.ToString();
    }

    private static string RandomJsonValue(Random random) => random.Next(8) switch
    {
        0 => "null",
        1 => "true",
        2 => RandomNumber(random),
        3 => "[]",
        4 => "{}",
        5 => "[\"Lopez\", 1, null]",
        6 => $"\"{RandomName(random)}\"",
        _ => "{\"name\": \"Lopez\"}",
    };

    private static string RandomNumber(Random random) => random.Next(6) switch
    {
        0 => "1e400",
        1 => "-99999999999999999999999",
        2 => "0.9",
        3 => "NaN",
        4 => "\"3\"",
        _ => random.Next(-10, 200).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "…";
}
