using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RnnService.Core.Data;
using RnnService.Core.Model;
using RnnService.Core.Serving;
using RnnService.Core.Training;

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

    /// <summary>Every version ever made current, one per line, oldest first: where the last good model is found when the pointer is lost.</summary>
    public const string HistoryFile = "current.history";

    /// <summary>The highest version number: nine digits, so the next one never overflows an int.</summary>
    public const int MaxVersion = 999_999_999;

    private const string StagingPrefix = ".staging-";
    private const int MaxPointerBytes = 64, MaxManifestBytes = 16 << 20, MaxHistoryBytes = 64 << 10;

    /// <summary>What TorchSharp's weights format adds to the raw parameters: names, shapes and types.</summary>
    private const long WeightsFileOverheadBytes = 64 << 10;

    private readonly ILogger logger = logger ?? NullLogger<ModelStore>.Instance;

    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        // A manifest with "calibration": null or a missing constructor argument is refused as it is read.
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
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
                var next = Versions().DefaultIfEmpty(0).Max() + 1;
                if (next > MaxVersion) throw new IOException($"The models folder {Root} has reached the highest version number, {MaxVersion:N0}.");
                manifest = manifest with { Version = next };
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

    /// <summary>Version numbers present in the folder, ascending (whether or not they load); folders named otherwise are not versions.</summary>
    public IReadOnlyList<int> Versions()
    {
        if (!Directory.Exists(Root)) return [];
        return Directory.GetDirectories(Root)
            .Select(path => ParseVersion(Path.GetFileName(path)))
            .OfType<int>()
            .Order()
            .ToArray();
    }

    /// <summary>A version number from 1 to <see cref="MaxVersion"/>, or null.</summary>
    private static int? ParseVersion(ReadOnlySpan<char> text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var version) && version is >= 1 and <= MaxVersion ? version : null;

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

    /// <summary>
    /// The version whose manifest names <paramref name="trainingJob"/>, or null: how a job whose worker died right after
    /// publishing finds its version. Reads manifests only, newest first, and stops at the first made well before the job
    /// started (<paramref name="startedAt"/> less an hour, for the clocks of other hosts), as a job publishes after it starts.
    /// </summary>
    public int? FindPublishedBy(Guid trainingJob, DateTimeOffset? startedAt)
    {
        var madeBefore = startedAt - TimeSpan.FromHours(1);
        foreach (var version in Versions().Reverse())
        {
            ModelManifest manifest;
            try
            {
                manifest = GetManifest(version);
            }
            catch (ModelLoadException exception)
            {
                logger.LogWarning("Skipping model version {Version} while looking for the version of training job {Job}: {Reason}", version, trainingJob, exception.Message);
                continue;
            }
            if (manifest.TrainingJob == trainingJob) return version;
            if (manifest.CreatedAt < madeBefore) return null;
        }
        return null;
    }

    /// <summary>The manifest of one version, without loading its weights.</summary>
    public ModelManifest GetManifest(int version) => ReadManifest(VersionPath(version), version);

    /// <summary>
    /// The version the folder asks to serve: the one the pointer file names, or why it cannot be followed (missing, not
    /// a regular file, no version number, a version that does not exist). The text of a bad pointer is never repeated:
    /// it may be anything. A folder that has never had a pointer (nor a history) asks for its newest version.
    /// </summary>
    public PointerReading ReadPointer()
    {
        var pointer = Path.Combine(Root, CurrentFile);
        if (!File.Exists(pointer))
        {
            return File.Exists(Path.Combine(Root, HistoryFile))
                ? new PointerReading(null, $"{pointer} is missing")
                : new PointerReading(Versions() is [.., var newest] ? newest : null, null);
        }
        string text;
        try
        {
            text = System.Text.Encoding.UTF8.GetString(BoundedFile.Read(pointer, MaxPointerBytes)).Trim();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return new PointerReading(null, $"{pointer} cannot be read: {exception.Message}");
        }
        if (ParseVersion(text) is not { } version) return new PointerReading(null, $"{pointer} does not hold a version number");
        return Directory.Exists(VersionPath(version))
            ? new PointerReading(version, null)
            : new PointerReading(null, $"{pointer} names version {version}, which does not exist");
    }

    /// <summary>
    /// Where to look when the pointer cannot be followed, best first: the versions that were current, most recent first
    /// (<see cref="HistoryFile"/>). Only a folder that never had a pointer or a history falls back to its newest version.
    /// </summary>
    public IReadOnlyList<int> FallbackVersions()
    {
        var history = Path.Combine(Root, HistoryFile);
        if (File.Exists(history))
        {
            try
            {
                return ReadHistoryTail(history).Split('\n').Reverse().Select(line => ParseVersion(line.Trim())).OfType<int>().Distinct().ToArray();
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning("Cannot read {History}: {Reason}", history, exception.Message);
                return [];
            }
        }
        return File.Exists(Path.Combine(Root, CurrentFile)) ? [] : Versions().Reverse().ToArray();
    }

    /// <summary>The end of the history file: the recent promotions are all a fallback needs, however long it grows.</summary>
    private static string ReadHistoryTail(string path) => System.Text.Encoding.ASCII.GetString(BoundedFile.ReadTail(path, MaxHistoryBytes));

    /// <summary>The version to serve: the pointer's when it can be followed, else the best fallback; null when there is none.</summary>
    public int? CurrentVersion() =>
        ReadPointer().Version ?? FallbackVersions().Where(version => Directory.Exists(VersionPath(version))).Select(version => (int?)version).FirstOrDefault();

    /// <summary>
    /// Points every reader of this folder at <paramref name="version"/>, atomically and durably: the new pointer is
    /// flushed to disk before it replaces the old one, and appended to the history. On failure (a read-only folder, a
    /// full disk) the old pointer stays, no temporary is left, and a <see cref="ModelStoreWriteException"/> says why.
    /// </summary>
    public void SetCurrent(int version)
    {
        if (!Directory.Exists(VersionPath(version))) throw new ModelLoadException($"Model version {version} does not exist in '{Root}'.");
        var temporary = Path.Combine(Root, $"{CurrentFile}.{OwnerTag}{Guid.NewGuid():N}.tmp");
        var line = version.ToString(CultureInfo.InvariantCulture) + "\n";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(System.Text.Encoding.ASCII.GetBytes(line));
                stream.Flush(flushToDisk: true);
            }
            FaultInjection.Reached("pointer-staged");
            File.Move(temporary, Path.Combine(Root, CurrentFile), overwrite: true);
            FaultInjection.Reached("pointer-written");
            File.AppendAllText(Path.Combine(Root, HistoryFile), line);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            logger.LogError("Cannot make version {Version} current in {Root}: {Reason}", version, Root, exception.Message);
            throw ModelStoreWriteException.From(exception);
        }
        logger.LogInformation("Model version {Version} is now current in {Root}", version, Root);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Nothing more to do: the next publish removes temporaries whose writer is gone.
        }
    }

    /// <summary>
    /// Without a pointer file the fallback is current, so a new version would become current the moment it appears.
    /// Writing the pointer first keeps serving what was served until someone promotes the new version.
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
        if (manifest.Normalization != NameNormalizer.Scheme)
        {
            throw new ModelLoadException(
                $"{Path.Combine(folder, ManifestFile)}: trained with normalisation '{manifest.Normalization}', but this service normalises names as '{NameNormalizer.Scheme}'.");
        }
        var model = new CharRnn(manifest.Architecture);
        try
        {
            // Checked before hashing: a weights file far larger than its parameters is refused without reading it all.
            var parameterBytes = model.parameters().Sum(parameter => parameter.NumberOfElements * parameter.ElementSize);
            if (new FileInfo(weightsPath).Length > parameterBytes + WeightsFileOverheadBytes)
            {
                throw new ModelLoadException($"{weightsPath}: weights file is larger than the manifest's architecture needs.");
            }
            var checksum = Sha256Of(weightsPath);
            if (!string.Equals(checksum, manifest.WeightsSha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new ModelLoadException($"{weightsPath}: checksum {checksum} does not match the manifest's {manifest.WeightsSha256}.");
            }
            model.load(weightsPath);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            model.Dispose();
            throw exception as ModelLoadException
                ?? new ModelLoadException($"{weightsPath}: weights do not fit the manifest's architecture ({exception.Message}).", exception);
        }
        var vocabulary = new Vocabulary(manifest.Vocabulary);
        return new LoadedModel(manifest, new NameClassifier(model, vocabulary, manifest.Languages, manifest.Calibration.Temperature));
    }

    private static ModelManifest ReadManifest(string folder, int version)
    {
        var path = Path.Combine(folder, ManifestFile);
        ModelManifest? manifest;
        try
        {
            using var document = JsonDocument.Parse(BoundedFile.Read(path, MaxManifestBytes));
            if (NullElementPath(document.RootElement, "$") is { } nullElement) throw new ModelLoadException($"{path}: {nullElement} is null.");
            manifest = WithSettingsOfItsTime(JsonObject.Create(document.RootElement)).Deserialize<ModelManifest>(JsonOptions);
        }
        catch (Exception exception) when (exception is IOException or JsonException or UnauthorizedAccessException)
        {
            throw new ModelLoadException($"{path}: manifest cannot be read ({exception.Message}).", exception);
        }
        if (manifest is null || manifest.Format is < ModelManifest.FirstFormat or > ModelManifest.CurrentFormat || manifest.Version != version)
        {
            throw new ModelLoadException($"{path}: not a format {ModelManifest.FirstFormat}–{ModelManifest.CurrentFormat} manifest of version {version}.");
        }
        if (ManifestRules.FirstProblem(manifest) is var (field, problem))
        {
            throw new ModelLoadException($"{path}: {field} {problem}.");
        }
        return manifest;
    }

    /// <summary>Every training setting of the first release, serialised once; each manifest read copies the ones it lacks.</summary>
    private static readonly KeyValuePair<string, JsonNode?>[] FirstReleaseSettings = [.. JsonSerializer.SerializeToNode(TrainingConfig.FirstRelease, JsonOptions)!.AsObject()];

    /// <summary>
    /// A manifest written before a training setting existed lacks it: the model was trained with the value of its day
    /// (<see cref="TrainingConfig.FirstRelease"/>), not today's default, so that is what the manifest is read with.
    /// </summary>
    private static JsonObject? WithSettingsOfItsTime(JsonObject? manifest)
    {
        if (manifest?["training"] is not JsonObject training) return manifest;
        foreach (var (setting, value) in FirstReleaseSettings)
        {
            if (!training.ContainsKey(setting)) training[setting] = value?.DeepClone();
        }
        return manifest;
    }

    /// <summary>The JSON path of the first null inside an array (no manifest list may hold one), or null.</summary>
    private static string? NullElementPath(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (NullElementPath(property.Value, $"{path}.{property.Name}") is { } found) return found;
                }
                return null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    var itemPath = string.Create(CultureInfo.InvariantCulture, $"{path}[{index++}]");
                    if (item.ValueKind == JsonValueKind.Null) return itemPath;
                    if (NullElementPath(item, itemPath) is { } found) return found;
                }
                return null;
            default:
                return null;
        }
    }

    private static void WriteManifest(string folder, ModelManifest manifest) =>
        File.WriteAllText(Path.Combine(folder, ManifestFile), JsonSerializer.Serialize(manifest, JsonOptions));

    /// <summary>The folder of one version (which may not exist).</summary>
    public string VersionPath(int version) => Path.Combine(Root, version.ToString(CultureInfo.InvariantCulture));

    private static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}

/// <summary>A verified model version with its manifest; disposing it frees the model's native memory.</summary>
public sealed record LoadedModel(ModelManifest Manifest, NameClassifier Classifier) : IDisposable
{
    /// <summary>Answers names with this version: prior, temperature, ranking, prediction sets, abstention.</summary>
    public Predictor Predictor { get; } = new(Manifest, Classifier);

    public void Dispose() => Classifier.Dispose();
}

/// <summary>The pointer file's version, or, when it cannot be followed, why not.</summary>
public sealed record PointerReading(int? Version, string? Problem);
