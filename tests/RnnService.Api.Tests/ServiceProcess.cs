using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace RnnService.Api.Tests;

/// <summary>
/// A real process of the service (the API or the worker role), built beside these tests and started on loopback, with
/// its output kept for assertions and failure messages. Disposing it kills it.
/// </summary>
internal sealed partial class ServiceProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly ConcurrentQueue<string> output = new();
    private readonly TaskCompletionSource<Uri> listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool disposed;

    private ServiceProcess(string project, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        var program = ProgramPath(project);
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(program)!, // where its appsettings.json is
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(program);
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, line) => Keep(line.Data);
        process.ErrorDataReceived += (_, line) => Keep(line.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output => string.Join('\n', output);

    public bool HasExited => process.HasExited;

    /// <summary>Starts the API on a free loopback port and waits until it listens.</summary>
    public static async Task<(ServiceProcess Api, HttpClient Client)> StartApiAsync(IReadOnlyDictionary<string, string> environment, string apiKey)
    {
        var api = new ServiceProcess("RnnService.Api", [], new Dictionary<string, string>(environment) { ["Urls"] = "http://127.0.0.1:0" });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using (timeout.Token.Register(() => api.listening.TrySetException(new TimeoutException("The API did not start listening:\n" + api.Output))))
        {
            var address = await api.listening.Task;
            var client = new HttpClient { BaseAddress = address };
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
            return (api, client);
        }
    }

    /// <summary>Starts <c>RnnService.Trainer worker</c>.</summary>
    public static ServiceProcess StartWorker(IReadOnlyDictionary<string, string> environment) => new("RnnService.Trainer", ["worker"], environment);

    /// <summary>kill -9: no cleanup, no last heartbeat.</summary>
    public void Kill() => process.Kill(entireProcessTree: true);

    /// <summary>SIGTERM, as <c>docker stop</c> or Kubernetes sends it.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cancellation.Token);
        return process.ExitCode;
    }

    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"'{text}' never appeared in the output:\n{Output}");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (disposed) return;
        disposed = true;
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
    }

    /// <summary>A program built beside these tests, in the same configuration.</summary>
    public static string ProgramPath(string project)
    {
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name; // bin/<configuration>/net10.0
        return Path.Combine(RepositoryPaths.Root, "src", project, "bin", configuration, "net10.0", project + ".dll");
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        output.Enqueue(line);
        if (ListeningLine().Match(line) is { Success: true } match) listening.TrySetResult(new Uri(match.Groups[1].Value));
    }

    [GeneratedRegex(@"Now listening on: (http://[^\s""]+)")]
    private static partial Regex ListeningLine();
}
