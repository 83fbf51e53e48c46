using System.ComponentModel;
using System.Globalization;
using RnnService.Core.Scoring;
using RnnService.Core.Serving;
using RnnService.Core.Training;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RnnService.Scorer;

/// <summary>The options of <c>score</c>; Spectre.Console.Cli parses and documents them (<c>--help</c>).</summary>
internal sealed class ScoreSettings : CommandSettings
{
    [CommandOption("-i|--input <PATH>")]
    [Description("File to score, or - for standard input.")]
    [DefaultValue("-")]
    public string Input { get; set; } = "-";

    [CommandOption("-o|--output <PATH>")]
    [Description("Where the scored rows go, or - for standard output. Written to a temporary file first and moved into place only when every row is done.")]
    [DefaultValue("-")]
    public string Output { get; set; } = "-";

    [CommandOption("-c|--column <NAME>")]
    [Description("The CSV/TSV column (an exact match wins, else case is ignored) or NDJSON member that holds the name.")]
    [DefaultValue("name")]
    public string Column { get; set; } = "name";

    [CommandOption("-f|--format <FORMAT>")]
    [Description("Input format: csv, tsv, ndjson or lines. Default: from the input's extension (.csv, .tsv, .ndjson/.jsonl, .txt), else csv.")]
    public BulkFormat? Format { get; set; }

    [CommandOption("--output-format <FORMAT>")]
    [Description("Output format: csv, tsv or ndjson. Default: from the output's extension, else as the input (plain lines become csv).")]
    public BulkFormat? OutputFormat { get; set; }

    [CommandOption("--top <K>")]
    [Description("Also write the K most probable languages with their probabilities (columns language_1, probability_1, ...).")]
    [DefaultValue(0)]
    public int Top { get; set; }

    [CommandOption("--coverage <LEVEL>")]
    [Description("Coverage of the prediction set: 0.8, 0.9 or 0.95.")]
    [DefaultValue(0.9)]
    public double Coverage { get; set; } = 0.9;

    [CommandOption("--prior <PRIOR>")]
    [Description("Language prior, as in the API: data (the training frequencies), uniform (every language alike), or weights such as German=2,Italian=1.")]
    [DefaultValue("data")]
    public string Prior { get; set; } = "data";

    [CommandOption("--model <VERSION>")]
    [Description("Model version to score with. Default: the current one of the models folder.")]
    public int? Model { get; set; }

    [CommandOption("--models <DIR>")]
    [Description("The models folder (shared with the service and the trainer).")]
    [DefaultValue("models")]
    public string Models { get; set; } = "models";

    [CommandOption("--strict")]
    [Description("Stop at the first bad row (empty, too long or letterless name, malformed line) with its line number, instead of marking it and going on.")]
    public bool Strict { get; set; }

    public BulkFormat InputFormat => Format ?? (Input == "-" ? null : BulkFormats.FromPath(Input)) ?? BulkFormat.Csv;

    public BulkFormat ResolvedOutputFormat => OutputFormat ?? OutputFormatOfPath ?? InputFormat.DefaultOutput();

    private BulkFormat? OutputFormatOfPath => Output != "-" && BulkFormats.FromPath(Output) is { } format and not BulkFormat.Lines ? format : null;

    public override ValidationResult Validate()
    {
        if (Top is < 0 or > 100) return ValidationResult.Error("--top must be between 0 and 100.");
        if (!Calibration.CoverageLevels.Contains(Coverage))
        {
            return ValidationResult.Error($"--coverage must be one of {string.Join(", ", Calibration.CoverageLevels.Select(c => c.ToString(CultureInfo.InvariantCulture)))}.");
        }
        try
        {
            PriorText.Parse(Prior);
        }
        catch (InvalidPriorException exception)
        {
            return ValidationResult.Error($"--prior: {exception.Message}");
        }
        if (!InputFormat.CanWrite(ResolvedOutputFormat)) return ValidationResult.Error($"{InputFormat} input cannot be written as {ResolvedOutputFormat}.");
        return ValidationResult.Success();
    }
}
