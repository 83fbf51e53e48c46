using BenchmarkDotNet.Attributes;
using RnnService.Core.Data;
using RnnService.Core.Model;
using RnnService.Core.Serving;
using RnnService.Core.Storage;
using TorchSharp;

namespace RnnService.Benchmarks;

/// <summary>
/// The shipped model answering one name and a batch of 1,000 real names, through the TorchSharp forward pass
/// (<see cref="NameClassifier"/>, what the service runs today) and the managed <see cref="FastRnn"/>; and the
/// step-by-step explanation of one name; and one name answered in full by <see cref="Predictor"/> (prior, temperature,
/// ranking, prediction set, reasons), what an HTTP prediction runs. Names are already normalised, so only inference is measured.
/// </summary>
[Config(typeof(ShortInProcessConfig))]
public class InferenceBenchmarks
{
    private const string OneName = "nakamura";

    private LoadedModel model = null!;
    private LoadedModel firstModel = null!;
    private FastRnn fast = null!;
    private FastRnn firstFast = null!;
    private string[] thousandNames = null!;
    private double[] probabilities = null!;
    private int[] ranking = null!;
    private int[] set = null!;
    private PredictionOptions options;

    [GlobalSetup]
    public void Setup()
    {
        torch.set_num_threads(1);
        var store = new ModelStore(RepositoryPaths.Models);
        model = store.Load(store.CurrentVersion() ?? throw new InvalidOperationException("No model in " + RepositoryPaths.Models));
        fast = new FastRnn(model.Classifier.Model);
        firstModel = store.Load(1);                          // one direction, characters only: the cost the options add
        firstFast = new FastRnn(firstModel.Classifier.Model);
        probabilities = new double[fast.LanguageCount];
        (ranking, set) = (new int[fast.LanguageCount], new int[fast.LanguageCount]);
        // The served model's own answer: the uniform prior where its manifest allows one (format 2), else the data prior.
        options = model.Predictor.Options(model.Predictor.AcceptsPriors ? PriorChoice.Uniform : PriorChoice.Data);
        var names = NamesDataset.Load(RepositoryPaths.Data).Examples.Select(example => example.Name).ToArray();
        new Random(42).Shuffle(names);
        thousandNames = names[..1000];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        model.Dispose();
        firstModel.Dispose();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("OneName")]
    public double[] OneNameTorchSharp() => model.Classifier.PredictWithTorch([OneName])[0];

    [Benchmark, BenchmarkCategory("OneName")]
    public double[] OneNameFast()
    {
        fast.Predict(OneName, model.Classifier.Vocabulary, probabilities, model.Classifier.Temperature);
        return probabilities;
    }

    [Benchmark, BenchmarkCategory("OneName")]
    public PredictionOutcome OneNameAnswered() => model.Predictor.Predict(OneName, options, probabilities, ranking, set);

    [Benchmark, BenchmarkCategory("OneName")]
    public double[] OneNameFastFirstModel()
    {
        firstFast.Predict(OneName, firstModel.Classifier.Vocabulary, probabilities, firstModel.Classifier.Temperature);
        return probabilities;
    }

    [Benchmark(Baseline = true), BenchmarkCategory("Batch1000")]
    public double[][] Batch1000TorchSharp() => model.Classifier.PredictWithTorch(thousandNames);

    [Benchmark, BenchmarkCategory("Batch1000")]
    public double[][] Batch1000Fast() => fast.Predict(thousandNames, model.Classifier.Vocabulary, model.Classifier.Temperature);

    [Benchmark, BenchmarkCategory("Batch1000")]
    public double[][] Batch1000FastFirstModel() => firstFast.Predict(thousandNames, firstModel.Classifier.Vocabulary, firstModel.Classifier.Temperature);

    [Benchmark, BenchmarkCategory("Explain")]
    public IReadOnlyList<ExplainedStep> ExplainOneName() => model.Classifier.Explain(OneName);
}
