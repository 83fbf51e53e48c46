using RnnService.Scorer;
using Spectre.Console;

// Messages and the progress bar go to standard error, so standard output can carry the scored rows (--output -).
// The progress bar only while standard error is a terminal: redirected to a log, it would fill it with redraws.
var console = AnsiConsole.Create(new AnsiConsoleSettings
{
    Out = new AnsiConsoleOutput(Console.Error),
    Interactive = Console.IsErrorRedirected ? InteractionSupport.No : InteractionSupport.Yes,
    Ansi = Console.IsErrorRedirected ? AnsiSupport.No : AnsiSupport.Detect,
});
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};
return await ScorerApp.Create(console).RunAsync(ScorerApp.WithStandardStreams(args), cancellation.Token);
