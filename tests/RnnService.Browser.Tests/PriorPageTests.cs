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
        var tiny = served.App.ShippedVersion + 1;
        TinyModel.Seed(served.App.ModelsDirectory, tiny);
        await ServeAsync(tiny);
        var page = await served.OpenAsync(scriptErrors);
        var prior = page.GetByLabel("Languages of your names");
        await Expect(page.Locator("#versions tbody tr.current")).ToHaveAttributeAsync("data-version", $"{tiny}");
        await Expect(prior.Locator("option[value='uniform']")).ToBeEnabledAsync();

        await page.GetByLabel("Family name").PressSequentiallyAsync("Lopo");
        await Expect(page.Locator("#predict-summary")).ToHaveAttributeAsync("data-model-version", $"{tiny}");
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

        // Version 1, the first shipped model, is format 1: it answers only with the data prior, and the page says so.
        Assert.Equal(ModelManifest.FirstFormat, new ModelStore(served.App.ModelsDirectory).GetManifest(1).Format);
        await ServeAsync(1);
        page = await served.OpenAsync(scriptErrors);
        await Expect(page.Locator("#versions tbody tr.current")).ToHaveAttributeAsync("data-version", "1");
        await Expect(page.GetByLabel("Languages of your names").Locator("option[value='uniform']")).ToBeDisabledAsync();
        await Expect(page.Locator("#prior-none")).ToBeVisibleAsync();
        await ServeAsync(served.App.ShippedVersion);
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
