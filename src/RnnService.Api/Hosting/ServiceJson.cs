using System.Buffers;
using System.IO.Pipelines;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace RnnService.Api.Hosting;

/// <summary>
/// The service's JSON contract, the same for controllers, minimal APIs and problem details: requests hold only the
/// documented fields with their documented types (an unknown field or a number sent as a string is a 400), and answers
/// are plain UTF-8 ("Müller", "O'Brien"), escaping only what JSON or an HTML parser needs.
/// </summary>
public static class ServiceJson
{
    /// <summary>The one JSON contract for controllers (MVC's options) and for minimal APIs and problem details (HTTP's).</summary>
    public static IServiceCollection AddServiceJson(this IServiceCollection services)
    {
        services.ConfigureHttpJsonOptions(json => Configure(json.SerializerOptions));
        services.Configure<Microsoft.AspNetCore.Mvc.JsonOptions>(json =>
        {
            Configure(json.JsonSerializerOptions);
            // The reader's own messages name .NET types; ErrorHandling words each failure from its JSON path instead.
            json.AllowInputFormatterExceptionMessages = false;
        });
        return services;
    }

    public static void Configure(JsonSerializerOptions options)
    {
        options.Encoder = PlainTextJsonEncoder.Instance;
        options.PropertyNameCaseInsensitive = false;   // "Top" is not the documented "top"
        options.NumberHandling = JsonNumberHandling.Strict;
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        options.Converters.Add(new JsonStringEnumConverter());
    }

    /// <summary>Writer settings for answers serialised by source-generated code (<see cref="PlainJson{T}"/>).</summary>
    internal static readonly JsonWriterOptions WriterOptions = new() { Encoder = PlainTextJsonEncoder.Instance, SkipValidation = true };
}

/// <summary>
/// <see cref="JavaScriptEncoder.UnsafeRelaxedJsonEscaping"/> (letters, apostrophes and every other printable character
/// as themselves; quotes, backslashes and control characters escaped) that still escapes &lt;, &gt; and &amp;, so no
/// answer can close a script element or start markup when some client pastes it into a page.
/// </summary>
internal sealed class PlainTextJsonEncoder : JavaScriptEncoder
{
    public static readonly PlainTextJsonEncoder Instance = new();

    private static readonly JavaScriptEncoder Relaxed = UnsafeRelaxedJsonEscaping;
    private static readonly SearchValues<char> HtmlChars = SearchValues.Create("<>&");
    private static readonly SearchValues<byte> HtmlBytes = SearchValues.Create("<>&"u8);

    public override int MaxOutputCharactersPerInputCharacter => Relaxed.MaxOutputCharactersPerInputCharacter;

    public override bool WillEncode(int unicodeScalar) => IsHtmlSensitive(unicodeScalar) || Relaxed.WillEncode(unicodeScalar);

    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength) =>
        First(new ReadOnlySpan<char>(text, textLength).IndexOfAny(HtmlChars), Relaxed.FindFirstCharacterToEncode(text, textLength));

    public override int FindFirstCharacterToEncodeUtf8(ReadOnlySpan<byte> utf8Text) =>
        First(utf8Text.IndexOfAny(HtmlBytes), Relaxed.FindFirstCharacterToEncodeUtf8(utf8Text));

    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
    {
        if (!IsHtmlSensitive(unicodeScalar)) return Relaxed.TryEncodeUnicodeScalar(unicodeScalar, buffer, bufferLength, out numberOfCharactersWritten);
        // The same \u00XX form the default encoder uses for these three.
        var destination = new Span<char>(buffer, bufferLength);
        numberOfCharactersWritten = 0;
        if (destination.Length < 6) return false;
        "\\u00".CopyTo(destination);
        ((byte)unicodeScalar).TryFormat(destination[4..], out _, "X2", provider: null);
        numberOfCharactersWritten = 6;
        return true;
    }

    private static bool IsHtmlSensitive(int scalar) => scalar is '<' or '>' or '&';

    private static int First(int a, int b) => a < 0 ? b : b < 0 ? a : Math.Min(a, b);
}

/// <summary>
/// A JSON answer written by source-generated code with the service's encoder. System.Text.Json runs the generated
/// fast-path writer only for options without an encoder of their own, so the encoder travels on the writer instead.
/// </summary>
public sealed class PlainJson<T>(T value, JsonTypeInfo<T> typeInfo) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.ContentType = "application/json; charset=utf-8";
        Write(httpContext.Response.BodyWriter);
        await httpContext.Response.BodyWriter.FlushAsync(httpContext.RequestAborted);
    }

    private void Write(PipeWriter body)
    {
        using var writer = new Utf8JsonWriter(body, ServiceJson.WriterOptions);
        JsonSerializer.Serialize(writer, value, typeInfo);
    }
}
