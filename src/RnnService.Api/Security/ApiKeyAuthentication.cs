using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.Options;
using RnnService.Api.Hosting;

namespace RnnService.Api.Security;

/// <summary>The key that management endpoints require in the <c>X-Api-Key</c> header (section <c>Security</c>).</summary>
public sealed class ApiKeyOptions
{
    public const string Section = "Security";

    /// <summary>The key. When empty, a random one is generated at startup and logged once.</summary>
    public string? ApiKey { get; set; }
}

/// <summary>The API key in force: the configured one, or one generated at startup so nothing is ever open by default.</summary>
public sealed class ApiKeyProvider
{
    public ApiKeyProvider(IOptions<ApiKeyOptions> options, ILogger<ApiKeyProvider> logger)
    {
        var configured = options.Value.ApiKey;
        if (string.IsNullOrWhiteSpace(configured))
        {
            configured = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            logger.LogWarning("No API key configured (Security__ApiKey); training and activation need this generated key: {ApiKey}", configured);
        }
        Key = Encoding.UTF8.GetBytes(configured);
    }

    private byte[] Key { get; }

    /// <summary>Compares in constant time, so response timing reveals nothing about the key.</summary>
    public bool IsValid(string? candidate) =>
        candidate is not null && CryptographicOperations.FixedTimeEquals(Key, Encoding.UTF8.GetBytes(candidate));
}

/// <summary>Authenticates requests that carry the right <c>X-Api-Key</c> header.</summary>
/// <remarks>A client that sent too many wrong keys lately is answered 429 with Retry-After, right key or not, until its window passes.</remarks>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory loggerFactory, UrlEncoder encoder, ApiKeyProvider keys, ClientLimits limits)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string Header = "X-Api-Key";

    private TimeSpan? lockedOutFor;

    /// <summary>401 as problem details that say what is wrong with the key, without ever repeating it; 429 while locked out.</summary>
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (lockedOutFor is { } wait) throw new TooManyRequestsException(wait, "Too many wrong API keys came from this client; wait before trying again.");
        await (Request.Headers.ContainsKey(Header)
            ? new Problem(ProblemKinds.ApiKeyInvalid, $"The {Header} header does not hold this service's API key.")
            : new Problem(ProblemKinds.ApiKeyMissing, $"Send this service's API key in the {Header} header.")).ExecuteAsync(Context);
    }

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(Header, out var values)) return Task.FromResult(AuthenticateResult.NoResult());
        if (limits.IsLockedOut(Context, out var wait))
        {
            lockedOutFor = wait;
            return Task.FromResult(AuthenticateResult.Fail("Too many wrong API keys."));
        }
        if (!keys.IsValid(values.ToString()))
        {
            limits.RecordFailedKey(Context);
            return Task.FromResult(AuthenticateResult.Fail("Invalid API key."));
        }
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "api-key")], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }
}

/// <summary>Data Protection's key ring, in memory only (see <see cref="ApiKeyAuthenticationExtensions.AddApiKeyAuthentication"/>).</summary>
internal sealed class InMemoryKeyRepository : IXmlRepository
{
    private readonly List<XElement> keys = [];

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        lock (keys) return keys.ToArray();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        lock (keys) keys.Add(element);
    }
}

public static class ApiKeyAuthenticationExtensions
{
    public static IServiceCollection AddApiKeyAuthentication(this IServiceCollection services)
    {
        services.AddOptions<ApiKeyOptions>().BindConfiguration(ApiKeyOptions.Section);
        services.AddSingleton<ApiKeyProvider>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorization();
        // Authentication brings ASP.NET Core Data Protection, which nothing here uses (no cookies, no antiforgery
        // tokens, nothing protected outlives the process): its keys stay in memory, so none is written unencrypted to
        // disk and startup warns about nothing.
        services.Configure<KeyManagementOptions>(keys =>
        {
            keys.XmlRepository = new InMemoryKeyRepository();
            keys.XmlEncryptor = new NullXmlEncryptor();
        });
        return services;
    }
}
