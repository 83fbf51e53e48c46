using RnnService.Core.Storage;

namespace RnnService.Api.Models;

/// <summary>
/// The manifests of every version, read once per set of versions: listing costs a directory read, not a parse of every
/// manifest, however many versions the folder holds. A version's files never change once published; a version added
/// or removed changes the set and refreshes the list.
/// </summary>
public sealed class ModelListing(ModelStore store)
{
    private Snapshot? cached;

    public IReadOnlyList<ModelManifest> Manifests()
    {
        var versions = store.Versions();
        var snapshot = Volatile.Read(ref cached);
        if (snapshot is not null && snapshot.Versions.SequenceEqual(versions)) return snapshot.Manifests;
        var manifests = store.List();
        Volatile.Write(ref cached, new Snapshot(versions, manifests));
        return manifests;
    }

    private sealed record Snapshot(IReadOnlyList<int> Versions, IReadOnlyList<ModelManifest> Manifests);
}
