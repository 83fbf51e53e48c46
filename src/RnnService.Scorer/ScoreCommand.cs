using System.Diagnostics;
using RnnService.Core.Scoring;
using RnnService.Core.Serving;
using RnnService.Core.Storage;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RnnService.Scorer;

/// <summary>
/// Scores every row of a file with one model version: reads the input incrementally, writes each row with its
/// prediction in input order, marks bad rows with an error column, and reports progress on a terminal.
/// </summary>
internal sealed class ScoreCommand(IAnsiConsole console) : AsyncCommand<ScoreSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ScoreSettings settings, CancellationToken cancellationToken)
    {
        var store = new ModelStore(settings.Models);
        var version = settings.Model ?? store.CurrentVersion();
        if (version is null)
        {
            console.MarkupLineInterpolated($"[red]No model in {Path.GetFullPath(settings.Models)}[/]: train one, or point --models at a models folder.");
            return 2;
        }
        LoadedModel model;
        try
        {
            model = store.Load(version.Value);
        }
        catch (Exception exception) when (exception is ModelLoadException or IOException)
        {
            console.MarkupLineInterpolated($"[red]Model version {version} cannot be loaded:[/] {exception.Message}");
            return 2;
        }
        using var _ = model;
        NameScorer scorer;
        try
        {
            scorer = new NameScorer(model.Predictor, settings.Top, settings.Coverage, PriorText.Parse(settings.Prior));
        }
        catch (Exception exception) when (exception is InvalidPriorException or ArgumentOutOfRangeException)
        {
            console.MarkupLineInterpolated($"[red]Model version {version} cannot score as asked:[/] {exception.Message}");
            return 2;
        }

        await using var input = settings.Input == "-" ? Console.OpenStandardInput() : OpenInput(settings.Input);
        using var output = new CommittedOutput(settings.Output);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var options = new BulkOptions(settings.Column, settings.Strict);
            var summary = await ScoringProgress.RunAsync(
                console,
                input.CanSeek ? input.Length : null,
                progress => BulkScoring.ScoreAsync(input, settings.InputFormat, output.Stream, settings.ResolvedOutputFormat, scorer, options, progress, cancellationToken: cancellationToken));
            await output.CommitAsync();
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            console.MarkupLineInterpolated(
                $"Scored [green]{summary.Rows:N0}[/] rows ([yellow]{summary.Failed:N0}[/] bad) with model version {summary.ModelVersion} and the {scorer.Prior} prior in {seconds:F1} s ({summary.Rows / Math.Max(seconds, 1e-9):N0} names/s) to {settings.Output}");
            return 0;
        }
        catch (BulkInputException exception)
        {
            console.MarkupLineInterpolated($"[red]Stopped:[/] {exception.Message}. {Unwritten(settings.Output)}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            console.MarkupLineInterpolated($"[yellow]Cancelled.[/] {Unwritten(settings.Output)}");
            return 130;
        }
    }

    private static string Unwritten(string output) =>
        output == "-" ? "The rows before it went to standard output." : $"{output} was not written.";

    private static FileStream OpenInput(string path) =>
        new(path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Options = FileOptions.SequentialScan | FileOptions.Asynchronous, BufferSize = 1 << 16 });
}

/// <summary>
/// The output file, written under a temporary name beside it and moved into place by <see cref="CommitAsync"/>, so a
/// run that stops early (a bad row under --strict, Ctrl+C, a crash) never leaves a file that looks complete.
/// Standard output cannot be taken back: it is written as it goes.
/// </summary>
internal sealed class CommittedOutput : IDisposable
{
    private readonly string? path;
    private readonly string? temporary;

    public CommittedOutput(string output)
    {
        if (output == "-")
        {
            Stream = Console.OpenStandardOutput();
            return;
        }
        path = Path.GetFullPath(output);
        temporary = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.partial");
        Stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
    }

    public Stream Stream { get; }

    public async Task CommitAsync()
    {
        await Stream.FlushAsync();
        if (path is null) return;
        await Stream.DisposeAsync();
        File.Move(temporary!, path, overwrite: true);
    }

    public void Dispose()
    {
        Stream.Dispose();
        if (temporary is not null && File.Exists(temporary)) File.Delete(temporary);
    }
}
