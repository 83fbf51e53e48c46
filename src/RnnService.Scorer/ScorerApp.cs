using Spectre.Console;
using Spectre.Console.Cli;

namespace RnnService.Scorer;

/// <summary>The command line as the process runs it, for Program and the tests alike.</summary>
internal static class ScorerApp
{
    public static CommandApp<ScoreCommand> Create(IAnsiConsole console)
    {
        var app = new CommandApp<ScoreCommand>();
        app.Configure(config =>
        {
            config.Settings.Registrar.RegisterInstance(console);
            config.SetApplicationName("score")
                .ConfigureConsole(console)
                .AddExample("--input", "people.csv", "--column", "last_name", "--output", "scored.csv")
                .AddExample("--input", "-", "--format", "lines", "--top", "3");
        });
        return app;
    }

    /// <summary>
    /// Spectre.Console.Cli reads a lone <c>-</c> as an option without a name; as the value of an option (--input -,
    /// --output -) it means standard input or output, so it is joined to its option (--input=-).
    /// </summary>
    public static string[] WithStandardStreams(string[] args)
    {
        var joined = new List<string>(args.Length);
        foreach (var arg in args)
        {
            if (arg == "-" && joined.Count > 0 && joined[^1].StartsWith('-') && !joined[^1].Contains('=', StringComparison.Ordinal)) joined[^1] += "=-";
            else joined.Add(arg);
        }
        return [.. joined];
    }
}
