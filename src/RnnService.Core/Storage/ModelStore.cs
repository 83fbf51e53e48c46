using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RnnService.Core.Data;
using RnnService.Core.Model;

namespace RnnService.Core.Storage;

/// <summary>
/// Versioned models in one folder, in the spirit of TensorFlow Serving: <c>models/1/</c>, <c>models/2/</c>, … each
/// holding <c>weights.bin</c> and <c>manifest.json</c>, plus a <c>current</c> pointer file naming the version to serve.
/// </summary>
/// <remarks>
/// Publishing writes a staging folder, proves it loads, then renames it into place, so a reader never sees a
/// half-written version, whenever a crash happens. The pointer is replaced by an atomic rename too. Because all state
/// lives in the folder, every process sharing it (API replicas, the command-line trainer) agrees on what is current.
/// </remarks>
public sealed class ModelStore(string root, ILogger<ModelStore>? logger = null)
{
    public const string WeightsFile = "weights.bin";
    public const string ManifestFile = "manifest.json";
    public const string CurrentFile = "current";
    private const string StagingPrefix = ".staging-";

    private readonly ILogger logger = logger ?? NullLogger<ModelStore>.Instance;

    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    public string Root { get; } = root;

    /// <summary>
    /// Saves the model as the next version and returns its manifest. Publishing never changes which version is
    /// current; <see cref="SetCurrent"/> does.
    /// </summary>
    public ModelManifest Publish(NameClassifier classifier, ModelManifest manifest, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(Root);
        RemoveAbandonedTemporaries();
        var staging = Path.Combine(Root, StagingPrefix + OwnerTag + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(staging);
        try
        {
            var weightsPath = Path.Combine(staging, WeightsFile);
            classifier.Model.save(weightsPath);
            FaultInjection.Reached("weights-written");
            manifest = manifest with { Format = ModelManifest.CurrentFormat, WeightsSha256 = Sha256Of(weightsPath) };
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                manifest = manifest with { Version = Versions().DefaultIfEmpty(0).Max() + 1 };
                WriteManifest(staging, manifest);
                FaultInjection.Reached("manifest-written");
                using (Load(staging, manifest.Version))
                {
                    // Proves the staged files rebuild a working model before anyone can see them.
                }
                FaultInjection.Reached("verified");
                PinCurrentVersion();
                try
                {
                    Directory.Move(staging, VersionPath(manifest.Version));
                    logger.LogInformation("Published model version {Version} to {Path}", manifest.Version, VersionPath(manifest.Version));
                    FaultInjection.Reached("published");
                    return manifest;
                }
                catch (IOException) when (Directory.Exists(VersionPath(manifest.Version)))
                {
                    // Another publisher took this number first; take the next one.
                }
            }
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>
    /// Staging folders and pointer temporaries left by a process that crashed. Each carries its creator's host and
    /// process id, so those of dead processes on this host go at once; others only once an hour old, because a
    /// replica on another host may still be writing them.
    /// </summary>
    private void RemoveAbandonedTemporaries()
    {
        var temporaries = Directory.EnumerateDirectories(Root, StagingPrefix + "*").Select(path => new DirectoryInfo(path) as FileSystemInfo)
            .Concat(Directory.EnumerateFiles(Root, CurrentFile + ".*.tmp").Select(path => new FileInfo(path)));
        foreach (var temporary in temporaries)
        {
            if (!IsAbandoned(temporary)) continue;
            try
            {
                if (temporary is DirectoryInfo directory) directory.Delete(recursive: true);
                else temporary.Delete();
                logger.LogInformation("Removed {Path}, left behind by a crashed publisher", temporary.FullName);
            }
            catch (IOException)
            {
                // Its owner, or another cleaner, got there first.
            }
        }
    }

    private static bool IsAbandoned(FileSystemInfo temporary)
    {
        if (DateTime.UtcNow - temporary.LastWriteTimeUtc > TimeSpan.FromHours(1)) return true;
        var ownHost = (temporary is DirectoryInfo ? StagingPrefix : CurrentFile + ".") + Environment.MachineName + "-";
        if (!temporary.Name.StartsWith(ownHost, StringComparison.Ordinal)) return false;
        var processId = temporary.Name[ownHost.Length..].Split('-')[0];
        return int.TryParse(processId, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && !IsRunning(pid);
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>"host-pid-": who made a temporary, so a later publisher on the same host can tell if its maker died.</summary>
    private static string OwnerTag => $"{Environment.MachineName}-{Environment.ProcessId}-";

    /// <summary>Version numbers present in the folder, ascending (whether or not they load).</summary>
    public IReadOnlyList<int> Versions()
    {
        if (!Directory.Exists(Root)) return [];
        return Directory.GetDirectories(Root)
            .Select(path => int.TryParse(Path.GetFileName(path), NumberStyles.None, CultureInfo.InvariantCulture, out var version) ? version : 0)
            .Where(version => version > 0)
            .Order()
            .ToArray();
    }

    /// <summary>Manifests of every version whose manifest reads, without loading any weights.</summary>
    public IReadOnlyList<ModelManifest> List()
    {
        var manifests = new List<ModelManifest>();
        foreach (var version in Versions())
        {
            try
            {
                manifests.Add(ReadManifest(VersionPath(version), version));
            }
            catch (ModelLoadException exception)
            {
                logger.LogWarning("Skipping model version {Version}: {Reason}", version, exception.Message);
            }
        }
        return manifests;
    }

    /// <summary>The manifest of one version, without loading its weights.</summary>
    public ModelManifest GetManifest(int version) => ReadManifest(VersionPath(version), version);

    /// <summary>
    /// The version to serve: the one the pointer file names, or without a pointer the newest version with a readable
    /// manifest; null when there is none.
    /// </summary>
    public int? CurrentVersion()
    {
        var pointer = Path.Combine(Root, CurrentFile);
        if (File.Exists(pointer))
        {
            var text = File.ReadAllText(pointer).Trim();
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var version) && Directory.Exists(VersionPath(version)))
            {
                return version;
            }
            logger.LogWarning("Ignoring {Pointer}: '{Text}' names no model version", pointer, text);
        }
        var manifests = List();
        return manifests.Count == 0 ? null : manifests[^1].Version;
    }

    /// <summary>Points every reader of this folder at <paramref name="version"/>, atomically.</summary>
    public void SetCurrent(int version)
    {
        if (!Directory.Exists(VersionPath(version))) throw new ModelLoadException($"Model version {version} does not exist in '{Root}'.");
        var temporary = Path.Combine(Root, $"{CurrentFile}.{OwnerTag}{Guid.NewGuid():N}.tmp");
        File.WriteAllText(temporary, version.ToString(CultureInfo.InvariantCulture) + "\n");
        FaultInjection.Reached("pointer-staged");
        File.Move(temporary, Path.Combine(Root, CurrentFile), overwrite: true);
        FaultInjection.Reached("pointer-written");
        logger.LogInformation("Model version {Version} is now current in {Root}", version, Root);
    }

    /// <summary>
    /// Without a pointer file the newest version is current, so a new version would become current the moment it
    /// appears. Writing the pointer first keeps serving what was served until someone promotes the new version.
    /// </summary>
    private void PinCurrentVersion()
    {
        if (!File.Exists(Path.Combine(Root, CurrentFile)) && CurrentVersion() is { } current) SetCurrent(current);
    }

    /// <summary>Loads and verifies one version: manifest, checksum, architecture and weights.</summary>
    public LoadedModel Load(int version) => Load(VersionPath(version), version);

    private static LoadedModel Load(string folder, int version)
    {
        var manifest = ReadManifest(folder, version);
        var weightsPath = Path.Combine(folder, WeightsFile);
        if (!File.Exists(weightsPath)) throw new ModelLoadException($"{weightsPath}: weights file is missing.");
        var checksum = Sha256Of(weightsPath);
        if (!string.Equals(checksum, manifest.WeightsSha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new ModelLoadException($"{weightsPath}: checksum {checksum} does not match the manifest's {manifest.WeightsSha256}.");
        }
        if (manifest.Normalization != NameNormalizer.Scheme)
        {
            throw new ModelLoadException(
                $"{Path.Combine(folder, ManifestFile)}: trained with normalisation '{manifest.Normalization}', but this service normalises names as '{NameNormalizer.Scheme}'.");
        }
        if (!(manifest.Calibration.Temperature > 0 && double.IsFinite(manifest.Calibration.Temperature)))
        {
            throw new ModelLoadException($"{Path.Combine(folder, ManifestFile)}: temperature {manifest.Calibration.Temperature} is not a positive number.");
        }
        var vocabulary = new Vocabulary(manifest.Vocabulary);
        if (vocabulary.Size != manifest.Architecture.VocabularySize || manifest.Languages.Count != manifest.Architecture.LanguageCount)
        {
            throw new ModelLoadException(
                $"{Path.Combine(folder, ManifestFile)}: vocabulary ({vocabulary.Size}) or languages ({manifest.Languages.Count}) do not match the architecture.");
        }
        var model = new CharRnn(manifest.Architecture);
        try
        {
            model.load(weightsPath);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            model.Dispose();
            throw new ModelLoadException($"{weightsPath}: weights do not fit the manifest's architecture ({exception.Message}).", exception);
        }
        return new LoadedModel(manifest, new NameClassifier(model, vocabulary, manifest.Languages, manifest.Calibration.Temperature));
    }

    private static ModelManifest ReadManifest(string folder, int version)
    {
        var path = Path.Combine(folder, ManifestFile);
        ModelManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ModelManifest>(File.ReadAllText(path), JsonOptions);
        }
        catch (Exception exception) when (exception is IOException or JsonException or UnauthorizedAccessException)
        {
            throw new ModelLoadException($"{path}: manifest cannot be read ({exception.Message}).", exception);
        }
        if (manifest is null || manifest.Format != ModelManifest.CurrentFormat || manifest.Version != version)
        {
            throw new ModelLoadException($"{path}: not a format-{ModelManifest.CurrentFormat} manifest of version {version}.");
        }
        return manifest;
    }

    private static void WriteManifest(string folder, ModelManifest manifest) =>
        File.WriteAllText(Path.Combine(folder, ManifestFile), JsonSerializer.Serialize(manifest, JsonOptions));

    private string VersionPath(int version) => Path.Combine(Root, version.ToString(CultureInfo.InvariantCulture));

    private static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}

/// <summary>A verified model version with its manifest; disposing it frees the model's native memory.</summary>
public sealed record LoadedModel(ModelManifest Manifest, NameClassifier Classifier) : IDisposable
{
    public void Dispose() => Classifier.Dispose();
}
