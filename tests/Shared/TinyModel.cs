using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using RnnService.Core.Storage;
using RnnService.Core.Training;

namespace RnnService.Tests.Shared;

/// <summary>A tiny model, trained once per test run on <see cref="TestData"/>, that tests copy into their own models folders.</summary>
internal static class TinyModel
{
    public static readonly TrainingConfig Config = TestData.TinyConfig with { Epochs = 8 };

    private static readonly Lazy<(byte[] Weights, string ManifestJson, ModelManifest Manifest)> Trained = new(Train);

    public static ModelManifest Manifest => Trained.Value.Manifest;

    /// <summary>Copies the model into <paramref name="root"/> as <paramref name="version"/>, as if it had been published there.</summary>
    public static void Seed(string root, int version, Func<string, string>? editManifest = null)
    {
        var folder = Directory.CreateDirectory(Path.Combine(root, version.ToString(CultureInfo.InvariantCulture))).FullName;
        File.WriteAllBytes(Path.Combine(folder, ModelStore.WeightsFile), Trained.Value.Weights);
        var manifest = Trained.Value.ManifestJson.Replace("\"version\": 1,", $"\"version\": {version},", StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(folder, ModelStore.ManifestFile), editManifest?.Invoke(manifest) ?? manifest);
    }

    /// <summary>Copies the model into <paramref name="root"/> as <paramref name="version"/>, as training job <paramref name="trainingJob"/> publishes it.</summary>
    public static void Seed(string root, int version, Guid trainingJob) =>
        Seed(root, version, manifest => manifest.Replace(
            $"\"version\": {version},", $"\"version\": {version},\n  \"trainingJob\": \"{trainingJob}\",", StringComparison.Ordinal));

    private static (byte[], string, ModelManifest) Train()
    {
        using var data = new TemporaryDirectory();
        using var models = new TemporaryDirectory();
        TestData.WriteDirectory(data);
        var manifest = new TrainingRunner(new ModelStore(models.Path), NullLogger<TrainingRunner>.Instance).TrainAndPublish(data.Path, Config);
        var folder = Path.Combine(models.Path, "1");
        return (File.ReadAllBytes(Path.Combine(folder, ModelStore.WeightsFile)), File.ReadAllText(Path.Combine(folder, ModelStore.ManifestFile)), manifest);
    }
}
