using System.Diagnostics;
using System.Globalization;
using RnnService.Api.Hosting;
using RnnService.Core.Storage;

namespace RnnService.Api.Models;

/// <summary>
/// Holds the model being served and swaps it without failing a request: a new version is loaded, verified and warmed
/// up before it replaces the old one; requests in flight keep the old one through their lease, and the old model's
/// native memory is freed when the last of them ends.
/// </summary>
public sealed class ModelHost(ModelStore store, ServiceMetrics metrics, ILogger<ModelHost> logger) : IDisposable
{
    private readonly Lock swapLock = new();
    private readonly Dictionary<int, FilesStamp> failedVersions = [];
    private ServedModel? served;
    private string? problem;

    /// <summary>The manifest of the model being served, or null while there is none.</summary>
    public ModelManifest? Current => Volatile.Read(ref served)?.Model.Manifest;

    /// <summary>
    /// Why this instance is not serving what the folder asks for (an unusable pointer, a version that cannot be served),
    /// or null when all is well. While a model is served despite it, the instance is degraded but still ready.
    /// </summary>
    public string? Problem => Volatile.Read(ref problem);

    /// <summary>Takes a lease on the served model, or null when none is loaded. Dispose the lease when done.</summary>
    public ModelLease? Acquire()
    {
        while (true)
        {
            var current = Volatile.Read(ref served);
            if (current is null) return null;
            if (current.TryAddReference()) return new ModelLease(current);
            // Lost a race with a swap that released this model: read the new one.
        }
    }

    /// <summary>
    /// Loads, verifies and warms up <paramref name="version"/>, records it as current in the shared folder, and only
    /// then serves it: all or nothing. Throws <see cref="ModelLoadException"/> if it cannot be served and
    /// <see cref="ModelStoreWriteException"/> if the folder cannot record it; either way nothing changes.
    /// </summary>
    public ModelManifest Activate(int version)
    {
        lock (swapLock)
        {
            if (served?.Model.Manifest.Version == version)
            {
                store.SetCurrent(version);
                return served.Model.Manifest;
            }
            var (loaded, took) = LoadAndWarmUp(version);
            try
            {
                store.SetCurrent(version);
            }
            catch
            {
                loaded.Dispose();
                throw;
            }
            Serve(loaded, took);
            SetProblem(null);
            return loaded.Manifest;
        }
    }

    /// <summary>
    /// Follows the shared folder's current version. The last good model wins: when the pointer cannot be followed or
    /// names a version that cannot be served, the served model stays (reported by <see cref="Problem"/>); with nothing
    /// served yet, the most recently promoted version that loads is served instead. Each failure is logged once, and
    /// retried when the version's files change.
    /// </summary>
    public void Refresh()
    {
        lock (swapLock)
        {
            try
            {
                FollowPointer();
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                SetProblem($"the models folder cannot be read: {exception.Message}");
            }
        }
    }

    private void FollowPointer()
    {
        var pointer = store.ReadPointer();
        var trouble = pointer.Problem;
        if (pointer.Version is { } wanted)
        {
            if (wanted == Current?.Version || TryServe(wanted))
            {
                SetProblem(null);
                return;
            }
            trouble = $"version {wanted}, which {ModelStore.CurrentFile} names, cannot be served";
        }
        if (served is null)
        {
            foreach (var fallback in store.FallbackVersions())
            {
                if (fallback != pointer.Version && TryServe(fallback)) break;
            }
        }
        SetProblem(trouble);
    }

    private bool TryServe(int version)
    {
        var stamp = FilesStamp.Of(store.VersionPath(version));
        if (failedVersions.TryGetValue(version, out var failedStamp) && failedStamp == stamp) return false;
        try
        {
            var (loaded, took) = LoadAndWarmUp(version);
            Serve(loaded, took);
            failedVersions.Remove(version);
            return true;
        }
        catch (ModelLoadException exception)
        {
            failedVersions[version] = stamp;
            logger.LogError("Model version {Version} cannot be served, keeping {Served}: {Reason}", version, Current?.Version.ToString(CultureInfo.InvariantCulture) ?? "none", exception.Message);
            return false;
        }
    }

    /// <summary>Records why the folder's wish is not being served, logging it once when it changes.</summary>
    private void SetProblem(string? now)
    {
        var before = Interlocked.Exchange(ref problem, now);
        if (now is null || now == before) return;
        logger.LogWarning("Models folder problem: {Problem}; serving {Served}", now, Current?.Version.ToString(CultureInfo.InvariantCulture) ?? "nothing");
    }

    private (LoadedModel Model, TimeSpan Took) LoadAndWarmUp(int version)
    {
        var started = Stopwatch.GetTimestamp();
        var loaded = store.Load(version);
        try
        {
            loaded.Classifier.Predict(["warm-up"]);
            return (loaded, Stopwatch.GetElapsedTime(started));
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
    }

    private void Serve(LoadedModel loaded, TimeSpan loadTime)
    {
        var previous = Interlocked.Exchange(ref served, new ServedModel(loaded));
        previous?.Release();
        metrics.ModelLoaded(loaded.Manifest.Version, loadTime);
        logger.LogInformation("Serving model version {Version} (was {Previous})", loaded.Manifest.Version, previous?.Model.Manifest.Version.ToString(CultureInfo.InvariantCulture) ?? "none");
    }

    public void Dispose() => Interlocked.Exchange(ref served, null)?.Release();

    /// <summary>A loaded model with a reference count: one for the host while it serves it, one per lease.</summary>
    internal sealed class ServedModel(LoadedModel model)
    {
        private int references = 1;

        public LoadedModel Model { get; } = model;

        public bool TryAddReference()
        {
            while (true)
            {
                var count = Volatile.Read(ref references);
                if (count == 0) return false;
                if (Interlocked.CompareExchange(ref references, count + 1, count) == count) return true;
            }
        }

        public void Release()
        {
            if (Interlocked.Decrement(ref references) == 0) Model.Dispose();
        }
    }
}

/// <summary>Size and time of a version's files: a failed version is tried again once they change (repaired or replaced).</summary>
internal readonly record struct FilesStamp(long ManifestLength, DateTime ManifestWritten, long WeightsLength, DateTime WeightsWritten)
{
    public static FilesStamp Of(string folder)
    {
        var (manifest, weights) = (new FileInfo(Path.Combine(folder, ModelStore.ManifestFile)), new FileInfo(Path.Combine(folder, ModelStore.WeightsFile)));
        return new FilesStamp(
            manifest.Exists ? manifest.Length : -1, manifest.Exists ? manifest.LastWriteTimeUtc : default,
            weights.Exists ? weights.Length : -1, weights.Exists ? weights.LastWriteTimeUtc : default);
    }
}

/// <summary>A request's hold on one model version; the version cannot be freed until the lease is disposed.</summary>
public sealed class ModelLease : IDisposable
{
    private ModelHost.ServedModel? served;

    internal ModelLease(ModelHost.ServedModel served) => this.served = served;

    public LoadedModel Model => served?.Model ?? throw new ObjectDisposedException(nameof(ModelLease));

    public void Dispose() => Interlocked.Exchange(ref served, null)?.Release();
}
