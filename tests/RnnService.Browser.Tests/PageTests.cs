using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace RnnService.Browser.Tests;

/// <summary>Predict, explain and model views against the shipped model, in headless Chromium.</summary>
public sealed class PageTests(ServedPage served) : IClassFixture<ServedPage>
{
    private readonly List<string> scriptErrors = [];

    [Fact]
    public async Task TypingANameShowsItsTopLanguageAsTheFirstBar()
    {
        var page = await served.OpenAsync(scriptErrors);

        await page.GetByLabel("Family name").PressSequentiallyAsync("Nakamura");

        var bars = page.Locator("#predict-chart .bar-row");
        await Expect(bars).ToHaveCountAsync(5);
        await Expect(bars.First).ToHaveAttributeAsync("data-language", "Japanese");
        await Expect(page.Locator("#predict-summary")).ToHaveTextAsync(new Regex(@"^“Nakamura” most likely comes from Japanese \((\d+\.\d)%\)\. Model version 1\.$"));
        await Expect(page.Locator("#predict-error")).ToBeEmptyAsync();
        await ServedPage.ScreenshotAsync(page.Locator("#predict"), "predict-wide");
        Assert.Empty(scriptErrors);
    }

    [Fact]
    public async Task TheExplainViewHasOneColumnPerCharacterAndAHeatMapOfTheHiddenState()
    {
        var page = await served.OpenAsync(scriptErrors);

        await page.GetByLabel("Family name").FillAsync("Nakamura");
        await page.GetByLabel("Family name").PressAsync("Enter");

        var columns = page.Locator("#explain-steps .step");
        await Expect(columns).ToHaveCountAsync(8);
        Assert.Equal("nakamura", string.Concat(await columns.EvaluateAllAsync<string[]>("steps => steps.map(s => s.dataset.character)")));
        await Expect(columns.Last).ToHaveAttributeAsync("aria-label", new Regex(@"^After “a” \(character 8\): Japanese \d+\.\d%"));
        var cells = page.Locator("#explain-heatmap rect.cell");
        await Expect(cells).ToHaveCountAsync(8 * served.App.ShippedHiddenSize);

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

    [Fact]
    public async Task TheModelSectionShowsTheConfusionMatrixOfAllEighteenLanguages()
    {
        var page = await served.OpenAsync(scriptErrors);

        await Expect(page.Locator("#model-confusion rect.cell")).ToHaveCountAsync(18 * 18);
        await Expect(page.Locator("#model-confusion .row-label")).ToHaveCountAsync(18);
        await Expect(page.Locator("#model-confusion .column-label")).ToHaveCountAsync(18);
        await Expect(page.Locator("#model-f1 .bar-row")).ToHaveCountAsync(18);
        await Expect(page.Locator("#model-summary")).ToContainTextAsync("Serving version 1");
        var test = served.App.ShippedTestMetrics;
        var accuracy = Math.Round(test.GetProperty("accuracy").GetDouble() * 100, 1, MidpointRounding.AwayFromZero).ToString("F1", CultureInfo.InvariantCulture);
        var macroF1 = test.GetProperty("macroF1").GetDouble().ToString("F3", CultureInfo.InvariantCulture);
        var headline = page.Locator("#model-current .headline li");
        await Expect(headline.Filter(new() { HasText = "Test accuracy" })).ToHaveTextAsync($"{accuracy}%Test accuracy");
        await Expect(headline.Filter(new() { HasText = "Test macro-F1" })).ToHaveTextAsync($"{macroF1}Test macro-F1");
        await Expect(page.Locator("#model-config")).ToContainTextAsync($"Hidden Size{served.App.ShippedHiddenSize}");
        var version = page.Locator("#versions tbody tr");
        await Expect(version).ToHaveCountAsync(1);
        await Expect(version).ToContainTextAsync("current");
        await Expect(version.GetByRole(AriaRole.Button, new() { Name = "Activate version 1" })).ToBeDisabledAsync();

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

    [Fact]
    public async Task ANameWithoutLettersShowsWhyInWords()
    {
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

    [Fact]
    public async Task OnANarrowScreenThePageNeverScrollsSideways()
    {
        var page = await served.OpenAsync(scriptErrors, width: 375, height: 812);

        await page.GetByLabel("Family name").FillAsync("Nakamura");
        await Expect(page.Locator("#explain-heatmap rect.cell")).ToHaveCountAsync(8 * served.App.ShippedHiddenSize);
        await Expect(page.Locator("#model-confusion rect.cell")).ToHaveCountAsync(18 * 18);
        await Expect(page.Locator("#predict-chart .bar-row").First).ToHaveAttributeAsync("data-language", "Japanese");

        var wideElements = await page.EvaluateAsync<string[]>(
            """
            () => [...document.querySelectorAll('body *')]
              .filter(e => !e.closest('.scroll') && e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
              .map(e => e.id || e.tagName)
            """);
        Assert.Empty(wideElements);
        var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - document.documentElement.clientWidth");
        Assert.Equal(0, overflow);
        await ServedPage.ScreenshotAsync(page, "narrow-full-page");
        foreach (var section in new[] { "predict", "explain", "model", "train" })
        {
            await ServedPage.ScreenshotAsync(page.Locator($"#{section}"), $"narrow-{section}");
        }
        Assert.Empty(scriptErrors);
    }
}
