using RnnService.Core.Storage;

namespace RnnService.Core.Jobs;

/// <summary>Where a promotion takes effect: the served model of an API process, or the shared folder for a worker of its own.</summary>
public interface IModelPromoter
{
    /// <summary>The model the promotion rule compares a new version with; null when none is served.</summary>
    ModelManifest? Serving { get; }

    /// <summary>Makes <paramref name="version"/> current for every instance sharing the models folder.</summary>
    void Promote(int version);
}

/// <summary>For a worker process, which serves nothing itself: the folder's current version is what the fleet serves.</summary>
public sealed class FolderPromoter(ModelStore store) : IModelPromoter
{
    public ModelManifest? Serving
    {
        get
        {
            try
            {
                return store.CurrentVersion() is { } version ? store.GetManifest(version) : null;
            }
            catch (ModelLoadException)
            {
                return null; // a current version that cannot be read is served by no replica either
            }
        }
    }

    public void Promote(int version)
    {
        using (store.Load(version))
        {
            // Proves the version loads before any replica is pointed at it.
        }
        store.SetCurrent(version);
    }
}

/// <summary>What a training worker reports to the host's metrics, if it has any.</summary>
public interface ITrainingMetrics
{
    void EpochCompleted(TimeSpan duration);

    void TrainingJobFinished(string outcome);
}
