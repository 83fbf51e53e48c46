using RnnService.Scorer;
using Spectre.Console;

// Messages and the progress bar go to standard error, so standard output can carry the scored rows (--output -).
var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};
return await ScorerApp.Create(console).RunAsync(ScorerApp.WithStandardStreams(args), cancellation.Token);
