using System.Globalization;
using RnnService.Core.Storage;
using Spectre.Console;

namespace RnnService.Scorer.Tests;

/// <summary>The command line end to end, in-process: files in a temporary folder, the tiny model in its own models folder.</summary>
public sealed class ScoreCommandTests : IDisposable
{
    private readonly TemporaryDirectory folder = new();
    private readonly StringWriter messages = new();

    public ScoreCommandTests()
    {
        TinyModel.Seed(Models, 1);
        new ModelStore(Models).SetCurrent(1);
    }

    private string Models => Path.Combine(folder.Path, "models");

    [Fact]
    public async Task ScoringAFileWritesEveryRowWithItsPredictionAndSaysWhatItDid()
    {
        var input = Write("people.csv", "id,last_name\r\n1,Rossini\r\n2,\r\n3,Ivanov\r\n");
        var output = Path.Combine(folder.Path, "scored.csv");

        var exit = await Run("--input", input, "--column", "last_name", "--output", output, "--top", "1", "--models", Models);

        Assert.Equal(0, exit);
        var rows = File.ReadAllText(output).Split("\r\n");
        Assert.Equal("id,last_name,language,probability,uncertain,reasons,prediction_set,language_1,probability_1,model_version,error", rows[0]);
        Assert.StartsWith("1,Rossini,Italian,", rows[1]);
        Assert.Equal("2,,,,,,,,,1,line 3: name is empty", rows[2]);
        Assert.StartsWith("3,Ivanov,Russian,", rows[3]);
        Assert.Contains("Scored 3 rows (1 bad) with model version 1", Messages);
        Assert.Equal([input, output], Directory.GetFiles(folder.Path).Order());   // no temporary file left
    }

    [Fact]
    public async Task StrictStopsAtTheFirstBadRowWithItsLineAndWritesNoOutputFile()
    {
        var input = Write("names.txt", "Rossini\n12345\nIvanov\n");
        var output = Path.Combine(folder.Path, "scored.csv");

        var exit = await Run("--input", input, "--output", output, "--strict", "--models", Models);

        Assert.Equal(1, exit);
        Assert.Contains("line 2: name has no letter", Messages);
        Assert.False(File.Exists(output));
        Assert.Equal([input], Directory.GetFiles(folder.Path));
    }

    [Fact]
    public async Task TheFormatsFollowTheFileExtensions()
    {
        var input = Write("people.ndjson", "{\"name\":\"Lopez\"}\n");
        var output = Path.Combine(folder.Path, "scored.ndjson");

        Assert.Equal(0, await Run("-i", input, "-o", output, "--models", Models));

        Assert.StartsWith("{\"name\":\"Lopez\",\"language\":\"Spanish\",", File.ReadAllText(output));
    }

    [Fact]
    public async Task ModelPicksAVersionOtherThanTheCurrentOne()
    {
        TinyModel.Seed(Models, 2);
        var input = Write("people.csv", "name\nRossini\n");
        var output = Path.Combine(folder.Path, "scored.csv");

        Assert.Equal(0, await Run("-i", input, "-o", output, "--model", "2", "--models", Models));

        Assert.EndsWith(",2,", File.ReadAllText(output).Split("\r\n")[1]);
    }

    [Fact]
    public async Task AnEmptyModelsFolderIsExplainedNotThrown()
    {
        var input = Write("people.csv", "name\nRossini\n");

        var exit = await Run("-i", input, "--models", Path.Combine(folder.Path, "nowhere"));

        Assert.Equal(2, exit);
        Assert.Contains("No model in", Messages);
    }

    [Fact]
    public async Task AnUncalibratedCoverageIsRefusedBeforeScoring()
    {
        var exit = await Run("-i", Write("people.csv", "name\nRossini\n"), "--coverage", "0.5", "--models", Models);

        Assert.NotEqual(0, exit);
        Assert.Contains("--coverage must be one of 0.8, 0.9, 0.95", Messages);
    }

    [Fact]
    public async Task APriorIsTakenAsTextAndAnUnknownLanguageInItIsRefused()
    {
        var input = Write("people.csv", "name\nRossini\n");
        var output = Path.Combine(folder.Path, "scored.csv");

        Assert.Equal(0, await Run("-i", input, "-o", output, "--prior", "uniform", "--models", Models));
        Assert.Contains("and the uniform prior", Messages);
        Assert.Equal(2, await Run("-i", input, "-o", output, "--prior", "Klingon=1", "--models", Models));
        Assert.Contains("Unknown language 'Klingon'", Messages);
    }

    [Fact]
    public void ALoneDashIsTheValueOfItsOption()
    {
        Assert.Equal(["--input=-", "-o=-", "--top", "2"], ScorerApp.WithStandardStreams(["--input", "-", "-o", "-", "--top", "2"]));
        Assert.Equal(["--output=x.csv"], ScorerApp.WithStandardStreams(["--output=x.csv"]));
    }

    private string Messages => messages.ToString().ReplaceLineEndings(" ");

    private string Write(string name, string content)
    {
        var path = Path.Combine(folder.Path, name);
        File.WriteAllText(path, content);
        return path;
    }

    private Task<int> Run(params string[] args)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(messages),
            Ansi = AnsiSupport.No,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 500;
        return ScorerApp.Create(console).RunAsync(ScorerApp.WithStandardStreams(args));
    }

    public void Dispose()
    {
        folder.Dispose();
        messages.Dispose();
    }
}
