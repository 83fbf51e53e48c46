using System.Diagnostics;
using System.Net;
using System.Text.Json;
using RnnService.Core;
using RnnService.Core.Storage;

namespace RnnService.Api.Tests;

/// <summary>
/// The command-line trainer, killed (SIGKILL) at every stage of training and publishing, three times each: after every
/// crash the models folder holds only complete versions, its current version loads, and a fresh API host serves it.
/// </summary>
public sealed class CrashTests
{
    private const int CrashesPerStage = 3;

    /// <summary>Stages in the order a run reaches them; only a crash after the pointer moved changes what is current.</summary>
    public static readonly TheoryData<string, bool> Stages = new()
    {
        { "epoch-2", false },
        { "weights-written", false },
        { "manifest-written", false },
        { "verified", false },
        { "published", false },
        { "pointer-staged", false },
        { "pointer-written", true },
    };

    [Theory]
    [MemberData(nameof(Stages))]
    public async Task ACrashAtAnyStageLeavesOnlyCompleteVersionsAndAServableCurrentOne(string stage, bool movesCurrent)
    {
        using var data = new TemporaryDirectory();
        using var models = new TemporaryDirectory();
        TestData.WriteDirectory(data);
        TinyModel.Seed(models.Path, 1);
        var store = new ModelStore(models.Path);

        for (var crash = 0; crash < CrashesPerStage; crash++)
        {
            var before = store.CurrentVersion();
            var exitCode = await RunTrainer(data.Path, models.Path, crashAt: stage);

            Assert.True(exitCode == 137, $"exit code {exitCode}: {LastOutput}"); // killed by SIGKILL, as a crash would be
            foreach (var version in store.Versions())
            {
                using var loaded = store.Load(version); // a half-written version would throw here
            }
            Assert.Equal(movesCurrent ? store.Versions().Max() : before, store.CurrentVersion());
        }

        await using var app = new RnnServiceApp(models.Path);
        using var client = app.CreateClient();
        var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(store.CurrentVersion(), (await ready.ReadAsync<JsonElement>()).GetProperty("modelVersion").GetInt32());

        // The next successful publish removes what the crashed processes left behind.
        Assert.Equal(0, await RunTrainer(data.Path, models.Path, crashAt: null));
        Assert.DoesNotContain(RnnServiceApp.ModelFolderEntries(models.Path),
            name => !int.TryParse(name, out _) && name is not (ModelStore.CurrentFile or ModelStore.HistoryFile));
    }

    private static string LastOutput { get; set; } = "";

    private static async Task<int> RunTrainer(string data, string models, string? crashAt)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                ServiceProcess.ProgramPath("RnnService.Trainer"), "train", "--DataDirectory", data, "--ModelsDirectory", models, "--HiddenSize", "8", "--Epochs", "3",
                "--BatchSize", "16", "--ValidationFraction", "0.2", "--TestFraction", "0.2", "--SplitSeed", "3",
                // Promoted whatever it scores against the seeded model, so every run reaches the pointer stages.
                "--PromotionTolerance", "1",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (crashAt is not null) start.Environment[FaultInjection.Variable] = crashAt;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        LastOutput = $"{await output}\n{await errors}";
        Assert.True(crashAt is not null || process.ExitCode == 0, $"trainer failed:\n{LastOutput}");
        return process.ExitCode;
    }
}
