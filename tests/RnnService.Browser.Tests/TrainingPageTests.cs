using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace RnnService.Browser.Tests;

/// <summary>The Train section against a service of its own, whose models folder training may change.</summary>
public sealed class TrainingPageTests(ServedPage served) : IClassFixture<ServedPage>
{
    private readonly List<string> scriptErrors = [];

    [SkippableFact]
    public async Task StartingATinyTrainingJobShowsItsProgressAndListsTheNewVersion()
    {
        ServedPage.RequireChromium();
        var page = await served.OpenAsync(scriptErrors);
        var (shipped, trained) = (served.App.ShippedVersion, served.App.ShippedVersion + 1);
        await Expect(page.Locator("#versions tbody tr")).ToHaveCountAsync(shipped);

        await page.GetByLabel("Hidden units").FillAsync("16");
        await page.GetByLabel("Ensemble members").FillAsync("1");
        await page.GetByLabel("Epochs per member").FillAsync("3");
        await page.GetByLabel("Batch size").FillAsync("16");
        await page.GetByLabel("API key").FillAsync(ServedApp.ApiKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Start training" }).ClickAsync();

        var outcome = page.Locator("#train-outcome");
        // One sentence, whichever way the promotion rule went.
        await Expect(outcome).ToHaveTextAsync(
            new Regex($@"^Training succeeded(: version {trained} is now served|, but version {trained} is not served), because [^()]+\.$"),
            new() { Timeout = 30_000 });
        await Expect(page.Locator("#train-status")).ToContainTextAsync("succeeded, epoch 3 of 3");
        await Expect(page.Locator("#train-progress")).ToHaveAttributeAsync("value", "3");
        await Expect(page.Locator("#train-charts .loss .series circle")).ToHaveCountAsync(2 * 3);
        await Expect(page.Locator("#train-charts .accuracy .series circle")).ToHaveCountAsync(2 * 3);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Cancel training" })).ToBeDisabledAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Start training" })).ToBeEnabledAsync();

        // The Model section is refreshed: the new version is listed.
        await Expect(page.Locator("#versions tbody tr")).ToHaveCountAsync(trained);
        await Expect(page.Locator($"#versions tbody tr[data-version='{trained}']")).ToBeVisibleAsync();
        await ServedPage.ScreenshotAsync(page.Locator("#train"), "train-wide");
        Assert.Empty(scriptErrors);
    }

    [SkippableFact]
    public async Task ARunningJobShowsEachEpochAsItEndsAndCanBeCancelled()
    {
        ServedPage.RequireChromium();
        var page = await served.OpenAsync(scriptErrors);
        var versions = page.Locator("#versions tbody tr");
        await Expect(versions.First).ToBeVisibleAsync();
        var versionsBefore = await versions.CountAsync();

        // Long enough to still be running when the test cancels it (it would take about a minute). The tiny learning rate
        // keeps the validation loss creeping down every epoch, so early stopping cannot end the job first.
        await page.GetByLabel("Hidden units").FillAsync("256");
        await page.GetByLabel("Ensemble members").FillAsync("1");
        await page.GetByLabel("Epochs per member").FillAsync("200");
        await page.GetByLabel("Batch size").FillAsync("2");
        await page.GetByLabel("Learning rate").FillAsync("0.000001");
        await page.GetByLabel("API key").FillAsync(ServedApp.ApiKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Start training" }).ClickAsync();

        await Expect(page.Locator("#train-status")).ToContainTextAsync(new Regex(@"running, epoch [1-9]\d* of 200"), new() { Timeout = 15_000 });
        await Expect(page.Locator("#train-charts .loss .series").First.Locator("circle").First).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Start training" })).ToBeDisabledAsync();
        await ServedPage.ScreenshotAsync(page.Locator("#train"), "train-running");
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel training" }).ClickAsync();

        await Expect(page.Locator("#train-outcome")).ToHaveTextAsync("Training was cancelled; nothing was published.", new() { Timeout = 15_000 });
        await Expect(page.Locator("#train-status")).ToContainTextAsync("cancelled");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Start training" })).ToBeEnabledAsync();
        await Expect(versions).ToHaveCountAsync(versionsBefore);
        Assert.Empty(scriptErrors);
    }

    [SkippableFact]
    public async Task AWrongApiKeyIsRefusedWithAReadableMessage()
    {
        ServedPage.RequireChromium();
        var page = await served.OpenAsync(scriptErrors);

        await page.GetByLabel("Epochs per member").FillAsync("3");
        await page.GetByLabel("API key").FillAsync("not-the-key");
        await page.GetByRole(AriaRole.Button, new() { Name = "Start training" }).ClickAsync();

        // The service's own words (problem details "detail"), which tell a wrong key from a missing one.
        await Expect(page.Locator("#train-error")).ToHaveTextAsync("The X-Api-Key header does not hold this service's API key.");
        await Expect(page.Locator("#train-error")).ToHaveAttributeAsync("role", "alert");
        await Expect(page.GetByLabel("API key")).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(page.Locator("#train-job")).ToBeHiddenAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Start training" })).ToBeEnabledAsync();
        await ServedPage.ScreenshotAsync(page.Locator("#train"), "train-wrong-key");
        Assert.Empty(scriptErrors);
    }

    [SkippableFact]
    public async Task AnOutOfRangeHyperparameterIsNamedInTheError()
    {
        ServedPage.RequireChromium();
        var page = await served.OpenAsync(scriptErrors, width: 375, height: 812);

        await page.GetByLabel("Hidden units").FillAsync("2");
        await page.GetByLabel("API key").FillAsync(ServedApp.ApiKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Start training" }).ClickAsync();

        await Expect(page.Locator("#train-error")).ToHaveTextAsync("Hidden units must be between 4 and 512.");
        await Expect(page.GetByLabel("Hidden units")).ToHaveAttributeAsync("aria-invalid", "true");
        await ServedPage.ScreenshotAsync(page.Locator("#train"), "train-invalid-narrow");
        Assert.Empty(scriptErrors);
    }
}
