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
    private ServedModel? served;
    private int? lastFailedVersion;

    /// <summary>The manifest of the model being served, or null while there is none.</summary>
    public ModelManifest? Current => Volatile.Read(ref served)?.Model.Manifest;

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
    /// Loads, verifies and warms up <paramref name="version"/>, records it as current in the shared folder, and
    /// serves it from now on. Throws <see cref="ModelLoadException"/>, changing nothing, if it cannot be served.
    /// </summary>
    public ModelManifest Activate(int version)
    {
        lock (swapLock)
        {
            var manifest = Swap(version);
            store.SetCurrent(version);
            return manifest;
        }
    }

    /// <summary>
    /// Follows the shared folder's current version. A version that fails to load is logged once and skipped, and the
    /// model already being served stays.
    /// </summary>
    public void Refresh()
    {
        lock (swapLock)
        {
            var version = store.CurrentVersion();
            if (version is null || version == Current?.Version || version == lastFailedVersion) return;
            try
            {
                Swap(version.Value);
            }
            catch (ModelLoadException exception)
            {
                lastFailedVersion = version;
                logger.LogError("Model version {Version} cannot be served, keeping {Served}: {Reason}", version, Current?.Version.ToString(CultureInfo.InvariantCulture) ?? "none", exception.Message);
            }
        }
    }

    private ModelManifest Swap(int version)
    {
        if (served?.Model.Manifest.Version == version) return served.Model.Manifest;
        var started = Stopwatch.GetTimestamp();
        var loaded = store.Load(version);
        try
        {
            loaded.Classifier.Predict(["warm-up"]);
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
        var previous = Interlocked.Exchange(ref served, new ServedModel(loaded));
        previous?.Release();
        lastFailedVersion = null;
        metrics.ModelLoaded(version, Stopwatch.GetElapsedTime(started));
        logger.LogInformation("Serving model version {Version} (was {Previous})", version, previous?.Model.Manifest.Version.ToString(CultureInfo.InvariantCulture) ?? "none");
        return loaded.Manifest;
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

/// <summary>A request's hold on one model version; the version cannot be freed until the lease is disposed.</summary>
public sealed class ModelLease : IDisposable
{
    private ModelHost.ServedModel? served;

    internal ModelLease(ModelHost.ServedModel served) => this.served = served;

    public LoadedModel Model => served?.Model ?? throw new ObjectDisposedException(nameof(ModelLease));

    public void Dispose() => Interlocked.Exchange(ref served, null)?.Release();
}
