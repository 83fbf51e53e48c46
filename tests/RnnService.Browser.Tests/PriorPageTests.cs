using System.Text.Json;
using Microsoft.Playwright;
using RnnService.Core.Storage;
using static Microsoft.Playwright.Assertions;

namespace RnnService.Browser.Tests;

/// <summary>The prior selector and each prior's calibration figures, against a service of its own whose current version the test changes.</summary>
public sealed class PriorPageTests(ServedPage served) : IClassFixture<ServedPage>
{
    private readonly List<string> scriptErrors = [];

    [SkippableFact]
    public async Task AVersionWithTrainingFrequenciesCanAnswerAsIfEveryLanguageWereAlike()
    {
        ServedPage.RequireChromium();
        // A format-2 version, with training frequencies and per-language thresholds, made current before the page opens.
        TinyModel.Seed(served.App.ModelsDirectory, 2);
        await ServeAsync(2);
        var page = await served.OpenAsync(scriptErrors);
        var prior = page.GetByLabel("Languages of your names");
        await Expect(page.Locator("#versions tbody tr.current")).ToHaveAttributeAsync("data-version", "2");
        await Expect(prior.Locator("option[value='uniform']")).ToBeEnabledAsync();

        await page.GetByLabel("Family name").PressSequentiallyAsync("Lopo");
        await Expect(page.Locator("#predict-summary")).ToHaveAttributeAsync("data-model-version", "2");
        var request = await page.RunAndWaitForRequestAsync(
            () => prior.SelectOptionAsync("uniform"),
            r => r.Url.EndsWith("/api/predictions/explain", StringComparison.Ordinal)
                && r.PostDataJSON() is { } body && body.TryGetProperty("prior", out var sent) && sent.GetString() == "uniform");
        Assert.Equal("Lopo", request.PostDataJSON()!.Value.GetProperty("name").GetString());
        await Expect(page.Locator("#predict-set")).ToContainTextAsync("every language weighing alike");

        // The calibration panel lists both priors' figures on the reweighted test split.
        await Expect(page.Locator("#prior-table tbody tr")).ToHaveCountAsync(2);
        await Expect(page.Locator("#prior-table tbody tr[data-prior='uniform'] th")).ToHaveTextAsync("All alike");
        await Expect(page.Locator("#prior-none")).ToBeHiddenAsync();
        await ServedPage.ScreenshotAsync(page.Locator("#calibration"), "calibration-priors-wide");

        // Back to the shipped version: a format-1 one answers only with the data prior, and the page says so.
        await ServeAsync(1);
        page = await served.OpenAsync(scriptErrors);
        await Expect(page.Locator("#versions tbody tr.current")).ToHaveAttributeAsync("data-version", "1");
        var shippedIsFormat1 = served.App.ShippedManifest.GetProperty("format").GetInt32() == ModelManifest.FirstFormat;
        var uniform = page.GetByLabel("Languages of your names").Locator("option[value='uniform']");
        await (shippedIsFormat1 ? Expect(uniform).ToBeDisabledAsync() : Expect(uniform).ToBeEnabledAsync());
        await (shippedIsFormat1 ? Expect(page.Locator("#prior-none")).ToBeVisibleAsync() : Expect(page.Locator("#prior-none")).ToBeHiddenAsync());
        Assert.Empty(scriptErrors);
    }

    /// <summary>Makes <paramref name="version"/> current and waits until the service answers with it.</summary>
    private async Task ServeAsync(int version)
    {
        new ModelStore(served.App.ModelsDirectory).SetCurrent(version);
        using var client = new HttpClient { BaseAddress = served.BaseAddress };
        for (var waited = 0; waited < 100; waited++)
        {
            using var current = JsonDocument.Parse(await client.GetStringAsync(new Uri("/api/models/current", UriKind.Relative)));
            if (current.RootElement.GetProperty("version").GetInt32() == version) return;
            await Task.Delay(100);
        }
        throw new TimeoutException($"version {version} was not served within 10 s");
    }
}
