using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace RnnService.Browser.Tests;

/// <summary>Predict, explain and model views against the shipped model, in headless Chromium.</summary>
public sealed class PageTests(ServedPage served) : IClassFixture<ServedPage>
{
    private readonly List<string> scriptErrors = [];

    [SkippableFact]
    public async Task TypingANameShowsItsTopLanguageAsTheFirstBar()
    {
        ServedPage.RequireChromium();
        var page = await served.OpenAsync(scriptErrors);

        await page.GetByLabel("Family name").PressSequentiallyAsync("Nakamura");

        var bars = page.Locator("#predict-chart .bar-row");
        await Expect(bars).ToHaveCountAsync(5);
        await Expect(bars.First).ToHaveAttributeAsync("data-language", "Japanese");
        await Expect(page.Locator("#predict-summary")).ToHaveTextAsync(new Regex($@"^“Nakamura” most likely comes from Japanese \((\d+\.\d)%\)\. Model version {served.App.ShippedVersion}\.$"));
        await Expect(page.Locator("#predict-error")).ToBeEmptyAsync();
        await ServedPage.ScreenshotAsync(page.Locator("#predict"), "predict-wide");
        Assert.Empty(scriptErrors);
    }

    [SkippableFact]
    public async Task TheExplainViewHasOneColumnPerCharacterAndAHeatMapOfTheHiddenState()
    {
        ServedPage.RequireChromium();
        var page = await served.OpenAsync(scriptErrors);

        await page.GetByLabel("Family name").FillAsync("Nakamura");
        await page.GetByLabel("Family name").PressAsync("Enter");

        var columns = page.Locator("#explain-steps .step");
        await Expect(columns).ToHaveCountAsync(8);
        Assert.Equal("nakamura", string.Concat(await columns.EvaluateAllAsync<string[]>("steps => steps.map(s => s.dataset.character)")));
        await Expect(columns.Last).ToHaveAttributeAsync("aria-label", new Regex(@"^After “a” \(character 8\): Japanese \d+\.\d%"));
        var cells = page.Locator("#explain-heatmap rect.cell");
        await Expect(cells).ToHaveCountAsync(8 * served.App.ShippedStateSize);

        // One cell is in the tab order; the arrow keys move through the map and the readout follows.
        await page.Locator("#explain-heatmap rect.cell[tabindex='0']").FocusAsync();
        await Expect(page.Locator("#heatmap-readout")).ToHaveTextAsync(new Regex("^Unit 1 after “n” \\(character 1\\): -?\\d\\.\\d{4}$"));
        await page.Keyboard.PressAsync("ArrowRight");
        await page.Keyboard.PressAsync("ArrowDown");
        await Expect(page.Locator("#heatmap-readout")).ToHaveTextAsync(new Regex("^Unit 2 after “a” \\(character 2\\): -?\\d\\.\\d{4}$"));
        await Expect(page.Locator("#explain-heatmap rect.cell[tabindex='0']")).ToHaveAttributeAsync("data-row", "1");

        await ServedPage.ScreenshotAsync(page, "explain-wide-full-page");
        await ServedPage.ScreenshotAsync(page.Locator("#explain"), "explain-wide");
        Assert.Empty(scriptErrors);
    }

    [SkippableFact]
    public async Task TheModelSectionShowsTheConfusionMatrixOfAllEighteenLanguages()
    {
        ServedPage.RequireChromium();
        var page = await served.OpenAsync(scriptErrors);

        await Expect(page.Locator("#model-confusion rect.cell")).ToHaveCountAsync(18 * 18);
        await Expect(page.Locator("#model-confusion .row-label")).ToHaveCountAsync(18);
        await Expect(page.Locator("#model-confusion .column-label")).ToHaveCountAsync(18);
        await Expect(page.Locator("#model-f1 .bar-row")).ToHaveCountAsync(18);
        await Expect(page.Locator("#model-summary")).ToContainTextAsync($"Serving version {served.App.ShippedVersion}");
        var test = served.App.ShippedTestMetrics;
        var accuracy = Math.Round(test.GetProperty("accuracy").GetDouble() * 100, 1, MidpointRounding.AwayFromZero).ToString("F1", CultureInfo.InvariantCulture);
        var macroF1 = test.GetProperty("macroF1").GetDouble().ToString("F3", CultureInfo.InvariantCulture);
        var headline = page.Locator("#model-current .headline li");
        await Expect(headline.Filter(new() { HasText = "Test accuracy" })).ToHaveTextAsync($"{accuracy}%Test accuracy");
        await Expect(headline.Filter(new() { HasText = "Test macro-F1" })).ToHaveTextAsync($"{macroF1}Test macro-F1");
        await Expect(page.Locator("#model-config")).ToContainTextAsync($"Hidden Size{served.App.ShippedHiddenSize}");
        var version = page.Locator("#versions tbody tr.current");
        await Expect(page.Locator("#versions tbody tr")).ToHaveCountAsync(served.App.ShippedVersion);     // every shipped version
        await Expect(version).ToContainTextAsync("current");
        await Expect(version.GetByRole(AriaRole.Button, new() { Name = $"Activate version {served.App.ShippedVersion}" })).ToBeDisabledAsync();

        // The cell counts are the manifest's: row Japanese, column Japanese.
        var japanese = served.App.ShippedManifest.GetProperty("languages").EnumerateArray().Select(l => l.GetString()).ToList().IndexOf("Japanese");
        var diagonal = test.GetProperty("confusionMatrix")[japanese][japanese].GetInt32();
        var cell = page.Locator($"#model-confusion rect.cell[data-row='{japanese}'][data-col='{japanese}']");
        await Expect(cell).ToHaveAttributeAsync("data-count", diagonal.ToString(CultureInfo.InvariantCulture));
        await cell.HoverAsync();
        await Expect(page.Locator("#confusion-readout")).ToContainTextAsync($"True Japanese, predicted Japanese: {diagonal} of");

        await ServedPage.ScreenshotAsync(page.Locator("#model"), "model-wide");
        Assert.Empty(scriptErrors);
    }

    [SkippableFact]
    public async Task ANameWithoutLettersShowsWhyInWords()
    {
        ServedPage.RequireChromium();
        var page = await served.OpenAsync(scriptErrors);

        await page.GetByLabel("Family name").PressSequentiallyAsync("1234");

        var error = page.GetByRole(AriaRole.Alert).Filter(new() { HasText = "letter" });
        await Expect(error).ToHaveTextAsync("Name must contain at least one letter.");
        await Expect(error).ToHaveIdAsync("predict-error");
        await Expect(page.GetByLabel("Family name")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(page.Locator("#predict-chart svg")).ToHaveCountAsync(0);
        await ServedPage.ScreenshotAsync(page.Locator("#predict"), "predict-invalid-name");

        // Fixing the name clears the error.
        await page.GetByLabel("Family name").FillAsync("Rossi");
        await Expect(page.Locator("#predict-error")).ToBeEmptyAsync();
        await Expect(page.Locator("#predict-chart .bar-row").First).ToHaveAttributeAsync("data-language", "Italian");
        Assert.Empty(scriptErrors);
    }

    [SkippableFact]
    public async Task OnANarrowScreenThePageNeverScrollsSideways()
    {
        ServedPage.RequireChromium();
        var page = await served.OpenAsync(scriptErrors, width: 375, height: 812);

        await page.GetByLabel("Family name").FillAsync("Nakamura");
        await Expect(page.Locator("#explain-heatmap rect.cell")).ToHaveCountAsync(8 * served.App.ShippedStateSize);
        await Expect(page.Locator("#model-confusion rect.cell")).ToHaveCountAsync(18 * 18);
        await Expect(page.Locator("#predict-chart .bar-row").First).ToHaveAttributeAsync("data-language", "Japanese");

        await Expect(page.Locator("#model-reliability rect.bin").First).ToBeVisibleAsync();

        await AssertNoSidewaysScrollingAsync(page);
        await ServedPage.ScreenshotAsync(page, "narrow-full-page");
        foreach (var section in new[] { "predict", "explain", "model", "train" })
        {
            await ServedPage.ScreenshotAsync(page.Locator($"#{section}"), $"narrow-{section}");
        }
        Assert.Empty(scriptErrors);
    }

    [SkippableFact]
    public async Task ACyrillicNameIsRomanisedAndThePageSaysHow()
    {
        ServedPage.RequireChromium();
        var page = await served.OpenAsync(scriptErrors);

        await page.GetByLabel("Family name").PressSequentiallyAsync("Иванов");

        await Expect(page.Locator("#predict-chart .bar-row").First).ToHaveAttributeAsync("data-language", "Russian");
        await Expect(page.Locator("#predict-reading")).ToHaveTextAsync("Read as “ivanov” (romanised from Cyrillic).");
        await Expect(page.Locator("#predict-summary")).ToHaveTextAsync(new Regex($@"^“Иванов” most likely comes from Russian \(\d+\.\d%\)\. Model version {served.App.ShippedVersion}\.$"));
        await Expect(page.Locator("#predict-confidence")).ToHaveTextAsync(new Regex(@"^\d+\.\d% \(probability of the top language; below 50% counts as low\)$"));
        await Expect(page.Locator("#predict-uncertain")).ToBeEmptyAsync();
        await Expect(page.Locator("#explain-steps .step")).ToHaveCountAsync("ivanov".Length);
        await ServedPage.ScreenshotAsync(page.Locator("#predict"), "predict-romanised-wide");
        Assert.Empty(scriptErrors);
    }

    [SkippableFact]
    public async Task ANameInAnotherScriptIsFlaggedAsUncertainWithItsReasons()
    {
        ServedPage.RequireChromium();
        var page = await served.OpenAsync(scriptErrors);

        await page.GetByLabel("Family name").PressSequentiallyAsync("中村");

        var notice = page.Locator("#predict-uncertain");
        await Expect(notice.GetByRole(AriaRole.Heading, new() { Name = "Uncertain: don’t trust this answer" })).ToBeVisibleAsync();
        await Expect(notice.Locator("li[data-reason='unsupported_script']")).ToHaveTextAsync(new Regex("^Unsupported script: the name has letters outside the Latin alphabet"));
        await Expect(notice.Locator("li[data-reason='unknown_characters']")).ToContainTextAsync("a quarter or more of the characters");
        await Expect(page.Locator("#predict-summary")).ToHaveTextAsync(new Regex($@"^“中村”: the best guess is \w+ \(\d+\.\d%\), but the answer is uncertain\. Model version {served.App.ShippedVersion}\.$"));
        await Expect(page.Locator("#predict-summary")).ToHaveAttributeAsync("data-uncertain", "true");
        await Expect(page.Locator("#predict-reading")).ToBeEmptyAsync();
        await ServedPage.ScreenshotAsync(page.Locator("#predict"), "predict-uncertain-wide");

        await page.SetViewportSizeAsync(375, 812);
        await Expect(page.Locator("#predict-chart svg")).ToHaveAttributeAsync("width", new Regex(@"^\d{3}$"));  // redrawn for the width
        await AssertNoSidewaysScrollingAsync(page);
        await ServedPage.ScreenshotAsync(page.Locator("#predict"), "predict-uncertain-narrow");

        // A trusted answer clears the notice.
        await page.GetByLabel("Family name").FillAsync("Nakamura");
        await Expect(page.Locator("#predict-summary")).ToHaveAttributeAsync("data-uncertain", "false");
        await Expect(notice).ToBeEmptyAsync();
        Assert.Empty(scriptErrors);
    }

    [SkippableFact]
    public async Task ThePredictionSetFollowsTheChosenCoverage()
    {
        ServedPage.RequireChromium();
        var page = await served.OpenAsync(scriptErrors);
        var set = page.Locator("#predict-set");
        var coverage = page.GetByLabel("Prediction set coverage");

        // An ambiguous name (Chinese, Vietnamese, English, …), so the sets differ between coverages.
        await page.GetByLabel("Family name").PressSequentiallyAsync("Lee");
        await Expect(set).ToHaveAttributeAsync("data-coverage", "0.9");
        await Expect(set).ToContainTextAsync("With 90% confidence the language is");

        // A debounced request from the typing may still be on its way; wait for the one the selection sends.
        var request = await page.RunAndWaitForRequestAsync(
            () => coverage.SelectOptionAsync("0.8"),
            r => r.Url.EndsWith("/api/predictions", StringComparison.Ordinal)
                && r.PostDataJSON() is { } body && body.TryGetProperty("coverage", out var sent) && sent.GetDouble() == 0.8);
        Assert.Equal("Lee", request.PostDataJSON()!.Value.GetProperty("name").GetString());
        await Expect(set).ToHaveAttributeAsync("data-coverage", "0.8");
        await Expect(set).ToContainTextAsync("With 80% confidence the language is");
        var narrow = await set.Locator(".set-language").AllTextContentsAsync();

        await coverage.SelectOptionAsync("0.95");
        await Expect(set).ToHaveAttributeAsync("data-coverage", "0.95");
        await Expect(set).ToContainTextAsync(new Regex(@"^With 95% confidence the language is one of: \w+(, \w+)* or \w+\. On the test names, 95% sets held the true language \d+\.\d% of the time\.$"));
        var wide = await set.Locator(".set-language").AllTextContentsAsync();

        Assert.True(wide.Count > narrow.Count, $"95%: {string.Join(", ", wide)}; 80%: {string.Join(", ", narrow)}");
        Assert.Subset(wide.ToHashSet(), narrow.ToHashSet());
        await Expect(page.Locator("#predict-chart .bar-row").First).ToHaveAttributeAsync("data-language", wide[0]);
        await ServedPage.ScreenshotAsync(page.Locator("#predict"), "predict-set-95-wide");
        Assert.Empty(scriptErrors);
    }

    [SkippableFact]
    public async Task TheModelSectionShowsCalibrationAndLinksTheModelCard()
    {
        ServedPage.RequireChromium();
        var page = await served.OpenAsync(scriptErrors);
        var calibration = served.App.ShippedManifest.GetProperty("calibration");
        var bins = calibration.GetProperty("testReliability").EnumerateArray().Where(b => b.GetProperty("count").GetInt32() > 0).ToList();

        var bars = page.Locator("#model-reliability rect.bin");
        await Expect(bars).ToHaveCountAsync(bins.Count);
        Assert.Equal(bins.Select(b => b.GetProperty("count").GetInt32()), await bars.EvaluateAllAsync<int[]>("bars => bars.map(b => Number(b.dataset.count))"));
        await Expect(page.Locator("#model-reliability svg")).ToHaveAttributeAsync("aria-label", new Regex($@"^Reliability diagram of \d+ test names in {bins.Count} confidence bins: "));
        await Expect(page.Locator("#reliability-table tbody tr")).ToHaveCountAsync(bins.Count);

        var temperature = calibration.GetProperty("temperature").GetDouble().ToString("F3", CultureInfo.InvariantCulture);
        await Expect(page.Locator("#calibration-figures li[data-figure='temperature']")).ToHaveTextAsync($"{temperature}Temperature T");
        string F(string name, int digits) => calibration.GetProperty(name).GetDouble().ToString($"F{digits}", CultureInfo.InvariantCulture);
        await Expect(page.Locator("#calibration-figures li[data-figure='nll']")).ToContainTextAsync($"{F("testNllBefore", 4)} → {F("testNllAfter", 4)}");
        await Expect(page.Locator("#calibration-figures li[data-figure='ece']")).ToContainTextAsync($"{F("testEceBefore", 3)} → {F("testEceAfter", 3)}");
        await Expect(page.Locator("#coverage-table tbody tr")).ToHaveCountAsync(calibration.GetProperty("predictionSets").GetArrayLength());
        await Expect(page.Locator("#coverage-table tbody tr").First).ToContainTextAsync("80%");

        // Hover or focus a bar for its count; the arrow keys move between bins.
        var lastCount = bins[^1].GetProperty("count").GetInt32();
        await bars.Last.HoverAsync();
        await Expect(page.Locator("#reliability-readout")).ToHaveTextAsync(new Regex($@"^Confidence \d+–100%: {lastCount} test names, mean confidence \d+\.\d%, accuracy \d+\.\d%$"));
        await bars.First.FocusAsync();
        await page.Keyboard.PressAsync("ArrowRight");
        await Expect(page.Locator("#reliability-readout")).ToContainTextAsync($": {bins[1].GetProperty("count").GetInt32()} test names");
        await Expect(bars.Nth(1)).ToHaveAttributeAsync("tabindex", "0");

        // The model card of the served version, as Markdown and as JSON.
        var card = page.GetByRole(AriaRole.Link, new() { Name = "Model card", Exact = true });
        await Expect(card).ToHaveAttributeAsync("href", $"/api/models/{served.App.ShippedVersion}/card?format=markdown");
        var markdown = await page.APIRequest.GetAsync(new Uri(served.BaseAddress, await card.GetAttributeAsync("href")).ToString());
        Assert.Equal(200, markdown.Status);
        Assert.StartsWith($"# Model card: RnnService model version {served.App.ShippedVersion}", await markdown.TextAsync(), StringComparison.Ordinal);
        var json = page.GetByRole(AriaRole.Link, new() { Name = "Model card as JSON" });
        var cardJson = await page.APIRequest.GetAsync(new Uri(served.BaseAddress, await json.GetAttributeAsync("href")).ToString());
        Assert.Equal(200, cardJson.Status);
        Assert.Equal(served.App.ShippedVersion, (await cardJson.JsonAsync())!.Value.GetProperty("version").GetInt32());

        await ServedPage.ScreenshotAsync(page.Locator("#calibration"), "calibration-wide");
        await page.SetViewportSizeAsync(375, 812);
        await Expect(page.Locator("#model-reliability svg")).ToHaveAttributeAsync("width", new Regex(@"^(2|3)\d\d$"));
        await page.Locator("#reliability-details summary").ClickAsync();
        await AssertNoSidewaysScrollingAsync(page);
        await ServedPage.ScreenshotAsync(page.Locator("#calibration"), "calibration-narrow");

        // Following the link shows the card in the browser (as text, not a download).
        await card.ClickAsync();
        await Expect(page.Locator("body")).ToContainTextAsync($"# Model card: RnnService model version {served.App.ShippedVersion}");
        Assert.Empty(scriptErrors);
    }

    [SkippableFact]
    public async Task NoViewBreaksTheContentSecurityPolicy()
    {
        ServedPage.RequireChromium();
        var page = await served.OpenAsync(scriptErrors);
        var root = await page.APIRequest.GetAsync(served.BaseAddress.ToString());
        Assert.Contains("style-src 'self'", root.Headers["content-security-policy"], StringComparison.Ordinal);

        // Every view, in the states that build their content from script.
        await Expect(page.Locator("#model-confusion rect.cell")).ToHaveCountAsync(18 * 18);
        await Expect(page.Locator("#model-reliability rect.bin").First).ToBeVisibleAsync();
        await page.Locator("#model-confusion rect.cell").Nth(20).HoverAsync();
        await page.Locator("#model-reliability rect.bin").First.FocusAsync();
        await page.Locator("#reliability-details summary").ClickAsync();
        await page.GetByLabel("Family name").PressSequentiallyAsync("中村");
        await Expect(page.Locator("#predict-uncertain li").First).ToBeVisibleAsync();
        await page.GetByLabel("Prediction set coverage").SelectOptionAsync("0.95");
        await Expect(page.Locator("#predict-set")).ToHaveAttributeAsync("data-coverage", "0.95");
        await page.GetByLabel("Family name").FillAsync("Иванов");
        await Expect(page.Locator("#predict-reading")).ToContainTextAsync("ivanov");
        await page.Locator("#explain-heatmap rect.cell[tabindex='0']").FocusAsync();
        await page.Keyboard.PressAsync("ArrowDown");
        await page.GetByLabel("Family name").FillAsync("1234");
        await Expect(page.Locator("#predict-error")).Not.ToBeEmptyAsync();
        await page.GetByLabel("API key").FillAsync("not-the-key");
        await page.GetByRole(AriaRole.Button, new() { Name = "Start training" }).ClickAsync();
        await Expect(page.Locator("#train-error")).Not.ToBeEmptyAsync();
        await page.SetViewportSizeAsync(375, 812);
        await Expect(page.Locator("#model-reliability svg")).ToHaveAttributeAsync("width", new Regex(@"^(2|3)\d\d$"));

        Assert.Empty(await ServedPage.CspViolationsAsync(page));
        Assert.Empty(scriptErrors);

        // The watcher does see a violation: an inline style attribute is refused and reported.
        await page.EvaluateAsync("() => document.body.setAttribute('style', 'outline: 0')");
        await page.WaitForFunctionAsync("() => window.__cspViolations.length > 0");
        Assert.Equal("style-src-attr", (await ServedPage.CspViolationsAsync(page)).Single().Split(' ')[0]);
    }

    private static async Task AssertNoSidewaysScrollingAsync(IPage page)
    {
        var wideElements = await page.EvaluateAsync<string[]>(
            """
            () => [...document.querySelectorAll('body *')]
              .filter(e => !e.closest('.scroll') && e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
              .map(e => e.id || e.tagName)
            """);
        Assert.Empty(wideElements);
        var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - document.documentElement.clientWidth");
        Assert.Equal(0, overflow);
    }
}
