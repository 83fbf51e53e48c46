using Microsoft.Extensions.Options;
using RnnService.Api.Models;
using RnnService.Core.Jobs;

namespace RnnService.Api.Hosting;

/// <summary>
/// Rewrites this server's folders in a message for clients (a failed job's reason, an unreadable model version) as
/// the folders' short names: "models/2/weights.bin", not where the models folder lives on this machine.
/// </summary>
public sealed class ServerPaths(IWebHostEnvironment environment, IOptions<ServingOptions> serving, IOptions<TrainingOptions> training)
{
    private readonly (string Path, string Name)[] folders =
    [
        (environment.ContentRootRelative(serving.Value.ModelsDirectory), "models"),
        (environment.ContentRootRelative(training.Value.DataDirectory), "data"),
        (environment.ContentRootPath.TrimEnd(System.IO.Path.DirectorySeparatorChar), "."),
    ];

    public string Redact(string message)
    {
        foreach (var (path, name) in folders)
        {
            message = message.Replace(path + System.IO.Path.DirectorySeparatorChar, name + "/", StringComparison.Ordinal)
                .Replace(path, name, StringComparison.Ordinal);
        }
        return message;
    }
}
