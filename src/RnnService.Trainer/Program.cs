using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RnnService.Core.Storage;
using RnnService.Core.Training;
using RnnService.Trainer;
using Serilog;

const string Usage = """
    Usage: dotnet run --project src/RnnService.Trainer -c Release -- <command> [--Setting value ...]
      train       train on the names data, publish the model to the models folder, and make it current if the promotion rule allows
      benchmark   seconds per epoch of the reference, reference with length-grouped batches, and default configurations
      worker      run training jobs queued through the API (the job store the API uses), until stopped (SIGTERM, Ctrl+C)
      compare     train each of --Candidates over --Seeds seeds on one split and print one table of their scores on
                  the validation split (and, from the same runs, the test split with --WithTest true); e.g.
                  --Candidates "previous; default; ngram; ngram-balanced; wide: HiddenSize=256, LearningRate=0.005"
    Settings: DataDirectory, ModelsDirectory, TorchThreads, Preset (Default|Reference), Activate (true|false), PromotionTolerance,
              BenchmarkEpochs, Candidates, Seeds, WithTest, and every training setting (HiddenSize, Epochs, Seed, ...).
    Worker settings are the API's: Serving:ModelsDirectory, Training:DataDirectory, ConnectionStrings:Jobs and the
              other Training:* settings (JobsKept, PromotionTolerance, WorkerLease, PollInterval).
    """;

var command = args.FirstOrDefault();
if (command is not ("train" or "benchmark" or "worker" or "compare"))
{
    Console.Error.WriteLine(Usage);
    return 2;
}

var builder = Host.CreateApplicationBuilder(args[1..]);
builder.Services.AddSerilog((_, logger) => logger
    .ReadFrom.Configuration(builder.Configuration)
    .WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj}{NewLine}{Exception}", formatProvider: CultureInfo.InvariantCulture));
if (command == "worker") return await Worker.RunAsync(builder);
var options = builder.Configuration.Get<TrainerOptions>() ?? new TrainerOptions();
builder.Services.AddSingleton(services => new ModelStore(options.ModelsDirectory, services.GetRequiredService<ILogger<ModelStore>>()));
builder.Services.AddSingleton<TrainingRunner>();
using var host = builder.Build();
var logger = host.Services.GetRequiredService<ILogger<Program>>();

TorchSharp.torch.set_num_threads(options.TorchThreads);
var config = options.Preset.Equals("Reference", StringComparison.OrdinalIgnoreCase) ? TrainingConfig.Reference : new TrainingConfig();
builder.Configuration.Bind(config);
var errors = config.Validate();
if (errors.Count > 0)
{
    foreach (var (setting, message) in errors) logger.LogError("{Setting} {Message}", setting, message);
    return 2;
}

using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancellation.Cancel();
};

try
{
    var runner = host.Services.GetRequiredService<TrainingRunner>();
    return command switch
    {
        "train" => Commands.Train(runner, host.Services.GetRequiredService<ModelStore>(), options, config, logger, cancellation.Token),
        "compare" => Commands.Compare(runner, options, config, logger, cancellation.Token),
        _ => Commands.Benchmark(runner, options, logger, cancellation.Token),
    };
}
catch (OperationCanceledException)
{
    logger.LogWarning("Cancelled; nothing was published");
    return 130;
}
