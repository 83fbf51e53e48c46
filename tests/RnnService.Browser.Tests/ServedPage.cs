using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Playwright;
using RnnService.Core.Storage;

namespace RnnService.Browser.Tests;

/// <summary>
/// The service on a real socket, serving a temporary copy of the shipped models (the current version) and training on the tiny
/// synthetic names data, with a known API key; tests can change its models folder without touching the repository's.
/// </summary>
public sealed class ServedApp : WebApplicationFactory<Program>
{
    public const string ApiKey = "browser-test-key";

    private readonly TemporaryDirectory models = new();
    private readonly TemporaryDirectory data = new();

    public ServedApp()
    {
        // Every shipped version (version 1, format 1, answers only with the data prior), the current one served.
        foreach (var version in Directory.EnumerateDirectories(RepositoryPaths.Models))
        {
            CopyDirectory(version, Path.Combine(models.Path, Path.GetFileName(version)));
        }
        var shipped = File.ReadAllText(Path.Combine(RepositoryPaths.Models, "current")).Trim();
        new ModelStore(models.Path).SetCurrent(int.Parse(shipped, CultureInfo.InvariantCulture));
        TestData.WriteDirectory(data);
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(models.Path, shipped, "manifest.json")));
        ShippedManifest = manifest.RootElement.Clone();
    }

    public string ModelsDirectory => models.Path;

    /// <summary>The shipped model's manifest, so tests check the page against its numbers rather than copies of them.</summary>
    public JsonElement ShippedManifest { get; }

    public int ShippedVersion => ShippedManifest.GetProperty("version").GetInt32();

    public int ShippedHiddenSize => ShippedManifest.GetProperty("architecture").GetProperty("hiddenSize").GetInt32();

    /// <summary>Numbers in one step's state: the hidden size, twice when a second RNN reads the name right to left.</summary>
    public int ShippedStateSize =>
        ShippedHiddenSize * (ShippedManifest.GetProperty("architecture").TryGetProperty("bidirectional", out var bidirectional) && bidirectional.GetBoolean() ? 2 : 1);

    public JsonElement ShippedTestMetrics => ShippedManifest.GetProperty("metrics").GetProperty("test");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Serving:ModelsDirectory", models.Path);
        builder.UseSetting("Serving:PollInterval", "00:00:00.200");
        builder.UseSetting("Training:DataDirectory", data.Path);
        builder.UseSetting("Security:ApiKey", ApiKey);
        builder.UseSetting("Serilog:MinimumLevel:Default", "Warning");
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            models.Dispose();
            data.Dispose();
        }
    }

    private static void CopyDirectory(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var file in Directory.EnumerateFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }
    }
}

/// <summary>
/// One running service and one headless Chromium per test class; each test opens its own browser context (a fresh
/// profile) on it. Chromium comes from the system (Debian's <c>chromium</c> package), or from <c>CHROMIUM_PATH</c>.
/// </summary>
public sealed class ServedPage : IAsyncLifetime
{
    private static readonly string[] ChromiumArgs =
    [
        "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
    ];

    private IPlaywright? playwright;
    private IBrowser? browser;

    public ServedApp App { get; } = new();

    public Uri BaseAddress => App.ClientOptions.BaseAddress;

    public static string ScreenshotsDirectory { get; } = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "screenshots")).FullName;

    private static string ChromiumPath =>
        Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } configured ? configured : "/usr/bin/chromium";

    /// <summary>
    /// Browser tests need a system Chromium (apt-get install -y chromium). Without one they are skipped, so the test
    /// command still works on a machine with only the .NET SDK; CI sets RNNSERVICE_REQUIRE_BROWSER=1 to make that a failure.
    /// </summary>
    public static void RequireChromium()
    {
        if (File.Exists(ChromiumPath)) return;
        var message = $"Chromium not found at {ChromiumPath}: install it (apt-get install -y chromium) or set CHROMIUM_PATH.";
        if (Environment.GetEnvironmentVariable("RNNSERVICE_REQUIRE_BROWSER") == "1") throw new FileNotFoundException(message, ChromiumPath);
        Skip.If(true, message);
    }

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath)) return; // each test then skips (or fails in CI), see RequireChromium
        App.UseKestrel(0);
        App.StartServer();
        playwright = await Playwright.CreateAsync();
        browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumPath, Headless = true, Args = ChromiumArgs });
    }

    /// <summary>
    /// Records every content security policy violation of a document in <c>window.__cspViolations</c>. It runs before the
    /// page's own scripts (Playwright injects it through the DevTools protocol, which the policy does not govern).
    /// </summary>
    private const string CspWatcher =
        """
        window.__cspViolations = [];
        document.addEventListener('securitypolicyviolation', (event) => {
          window.__cspViolations.push(`${event.effectiveDirective} blocked ${event.blockedURI || 'inline'} in ${event.sourceFile || event.documentURI}:${event.lineNumber}`);
        }, true);
        """;

    /// <summary>
    /// A new page at / in its own context; uncaught script errors, content security policy violations (as the console
    /// reports them) and files the page loads that are missing (the favicon, say) are collected into <paramref name="scriptErrors"/>.
    /// </summary>
    public async Task<IPage> OpenAsync(List<string> scriptErrors, int width = 1280, int height = 900)
    {
        var context = await browser!.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
            Locale = "en-GB",
            ReducedMotion = ReducedMotion.Reduce,
        });
        await context.AddInitScriptAsync(CspWatcher);
        var page = await context.NewPageAsync();
        page.PageError += (_, error) => scriptErrors.Add(error);
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.Ordinal)) scriptErrors.Add($"CSP: {message.Text}");
        };
        // A file the page asks for itself (script, style, icon) must exist; API calls answer 404 on purpose in some tests.
        page.Response += (_, response) =>
        {
            if (response.Status == 404 && response.Request.ResourceType is not ("fetch" or "xhr")) scriptErrors.Add($"404: {response.Url}");
        };
        await page.GotoAsync(BaseAddress.ToString());
        return page;
    }

    /// <summary>The content security policy violations the page has seen so far (see <see cref="CspWatcher"/>).</summary>
    public static Task<string[]> CspViolationsAsync(IPage page) => page.EvaluateAsync<string[]>("() => window.__cspViolations");

    public static Task ScreenshotAsync(IPage page, string name, bool fullPage = true) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = ScreenshotPath(name), FullPage = fullPage });

    public static Task ScreenshotAsync(ILocator locator, string name) =>
        locator.ScreenshotAsync(new LocatorScreenshotOptions { Path = ScreenshotPath(name) });

    public async Task DisposeAsync()
    {
        if (browser is not null) await browser.DisposeAsync();
        playwright?.Dispose();
        await App.DisposeAsync();
    }

    private static string ScreenshotPath(string name) => Path.Combine(ScreenshotsDirectory, string.Create(CultureInfo.InvariantCulture, $"{name}.png"));
}
