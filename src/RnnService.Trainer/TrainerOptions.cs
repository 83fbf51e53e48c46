using RnnService.Core.Training;

namespace RnnService.Trainer;

/// <summary>Settings of the command-line trainer; every one can be given as <c>--Name value</c>.</summary>
internal sealed class TrainerOptions
{
    public string DataDirectory { get; set; } = "data/names";
    public string ModelsDirectory { get; set; } = "models";

    /// <summary>Torch intra-op threads. One is fastest for these small matrices (see README).</summary>
    public int TorchThreads { get; set; } = 1;

    /// <summary><c>Default</c> (the shipped model's settings) or <c>Reference</c> (the article's); other settings override it.</summary>
    public string Preset { get; set; } = "Default";

    /// <summary>
    /// Make the new version current after publishing it when the promotion rule allows (the API replicas then serve
    /// it); false leaves the current version alone.
    /// </summary>
    public bool Activate { get; set; } = true;

    /// <summary>The promotion rule's tolerance, as the API's <c>Training:PromotionTolerance</c>.</summary>
    public double PromotionTolerance { get; set; } = Promotion.DefaultTolerance;

    /// <summary>Epochs each benchmarked configuration runs.</summary>
    public int BenchmarkEpochs { get; set; } = 3;

    /// <summary>What <c>compare</c> trains, separated by ';': presets or <c>name: Setting=value, ...</c> (see Comparison).</summary>
    public string Candidates { get; set; } = "reference; previous; default; ngram; ngram-balanced";

    /// <summary>Training seeds per candidate in <c>compare</c> (1..Seeds).</summary>
    public int Seeds { get; set; } = 3;

    /// <summary>
    /// <c>compare</c> also tabulates the test split, for the final report; choose between candidates on the validation
    /// table only.
    /// </summary>
    public bool WithTest { get; set; }
}
