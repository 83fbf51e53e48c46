using System.Text;
using System.Text.Json;
using RnnService.Core.Scoring;
using RnnService.Core.Storage;

namespace RnnService.Core.Tests.Scoring;

/// <summary>The tiny model, loaded once for every bulk scoring test.</summary>
public sealed class ScoringModel : IDisposable
{
    private readonly TemporaryDirectory models = new();

    public ScoringModel()
    {
        TinyModel.Seed(models.Path, 1);
        Model = new ModelStore(models.Path).Load(1);
    }

    internal LoadedModel Model { get; }

    public void Dispose()
    {
        Model.Dispose();
        models.Dispose();
    }
}

public sealed class BulkScoringTests(ScoringModel fixture) : IClassFixture<ScoringModel>
{
    private const string Header = "id,last_name,city,language,probability,uncertain,reasons,prediction_set,model_version,error";

    [Fact]
    public async Task CsvRowsKeepEveryColumnAsReadAndGainThePredictionInInputOrder()
    {
        var output = await Score("id,last_name,city\r\n1,Rossini,\"Rome, Italy\"\r\n2,Ivanov,\"He said \"\"hi\"\"\"\r\n3,Lopez,Madrid\r\n", BulkFormat.Csv, column: "last_name");

        var lines = output.Split("\r\n");
        Assert.Equal(Header, lines[0]);
        Assert.StartsWith("1,Rossini,\"Rome, Italy\",Italian,", lines[1]);
        Assert.StartsWith("2,Ivanov,\"He said \"\"hi\"\"\",Russian,", lines[2]);
        Assert.StartsWith("3,Lopez,Madrid,Spanish,", lines[3]);
        Assert.EndsWith(",1,", lines[3]);
        Assert.Equal("", lines[4]);                                   // every record ends with CRLF, as RFC 4180 writes it
    }

    [Fact]
    public async Task AByteOrderMarkAndLfLineEndingsReadAsPlainCsv()
    {
        var withMark = await Score("\uFEFFname\nRossini\nIvanov\n", BulkFormat.Csv);
        var plain = await Score("name\r\nRossini\r\nIvanov\r\n", BulkFormat.Csv);

        Assert.Equal(plain, withMark);
        Assert.StartsWith("name,language,", plain);
    }

    [Fact]
    public async Task TsvIsScoredIntoTsv()
    {
        var output = await Score("id\tname\n7\tRossini\n", BulkFormat.Tsv);

        var lines = output.Split("\r\n");
        Assert.Equal("id\tname\tlanguage\tprobability\tuncertain\treasons\tprediction_set\tmodel_version\terror", lines[0]);
        Assert.StartsWith("7\tRossini\tItalian\t", lines[1]);
    }

    [Fact]
    public async Task TheNameColumnIsFoundIgnoringCaseWhenNoneMatchesExactly()
    {
        var output = await Score("Last_Name\nIvanov\n", BulkFormat.Csv, column: "last_name");

        Assert.StartsWith("Ivanov,Russian,", output.Split("\r\n")[1]);
    }

    [Fact]
    public async Task AMissingNameColumnStopsBeforeAnyRowAndListsTheColumns()
    {
        var error = await Assert.ThrowsAsync<BulkInputException>(() => Score("id,surname\n1,Rossini\n", BulkFormat.Csv));

        Assert.Equal("line 1: the header has no column 'name' (it has: id, surname)", error.Message);
    }

    [Fact]
    public async Task AnInputColumnNamedLikeAnAddedOneIsRefused()
    {
        var error = await Assert.ThrowsAsync<BulkInputException>(() => Score("name,language\nRossini,it\n", BulkFormat.Csv));

        Assert.Contains("already has a column 'language'", error.Message);
    }

    [Fact]
    public async Task EachKindOfBadCsvRowGetsItsLineAndReasonWhileTheRowsAroundItAreScored()
    {
        var input = string.Join("\r\n",
            "id,name,note",
            "1,Rossini,ok",
            "2,,empty",
            "3," + new string('a', 51) + ",long",
            "4,12345,digits",
            "5,\"Ivanov\nthe second\",line break inside quotes is fine",
            "6,Lo\"pez,stray quote",
            "7,Lopez",
            "8,Lopez,ok",
            "");

        var rows = (await Score(input, BulkFormat.Csv)).Split("\r\n");

        Assert.Equal(10, rows.Length);                                 // header, 8 rows, the last CRLF
        Assert.EndsWith(",1,", rows[1]);
        Assert.EndsWith(",1,line 3: name is empty", rows[2]);
        Assert.EndsWith(",1,line 4: name is longer than 50 characters", rows[3]);
        Assert.EndsWith(",1,line 5: name has no letter", rows[4]);
        Assert.StartsWith("5,\"Ivanov\nthe second\",line break inside quotes is fine,", rows[5]);
        Assert.EndsWith(",1,", rows[5]);
        Assert.EndsWith(",1,line 8: malformed line: a quote inside an unquoted field", rows[6]);
        Assert.Equal("7,Lopez,,,,,,,1,line 9: malformed line: 2 fields where the header has 3", rows[7]);
        Assert.StartsWith("8,Lopez,ok,Spanish,", rows[8]);
    }

    [Fact]
    public async Task StrictStopsAtTheFirstBadRowWithItsLine()
    {
        var error = await Assert.ThrowsAsync<BulkInputException>(() =>
            Score("name\nRossini\n\"\"\nIvanov\n", BulkFormat.Csv, options: new BulkOptions(Strict: true)));

        Assert.Equal(3, error.Line);
        Assert.Equal("line 3: name is empty (strict: stopped at the first bad row)", error.Message);
    }

    [Fact]
    public async Task TopAddsLanguageProbabilityPairsMostProbableFirst()
    {
        var output = await Score("name\nRossini\n", BulkFormat.Csv, top: 2);

        var lines = output.Split("\r\n");
        Assert.Equal("name,language,probability,uncertain,reasons,prediction_set,language_1,probability_1,language_2,probability_2,model_version,error", lines[0]);
        var fields = lines[1].Split(',');
        Assert.Equal("Italian", fields[6]);
        Assert.Equal(fields[2], fields[7]);
        Assert.True(double.Parse(fields[7], System.Globalization.CultureInfo.InvariantCulture) >= double.Parse(fields[9], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task ANameInAnotherScriptIsUncertainWithEveryLanguageInItsSet()
    {
        var output = await Score("name\n山田\n", BulkFormat.Csv);

        var fields = output.Split("\r\n")[1].Split(',');
        Assert.Equal("true", fields[3]);
        Assert.Contains("unsupported_script", fields[4].Split('|'));
        Assert.Equal(TestData.Languages.Order(), fields[5].Split('|').Order());
    }

    [Fact]
    public async Task PredictionsAreTheSingleNamePathsProbabilities()
    {
        var output = await Score("name\nRossini\n", BulkFormat.Csv);

        var probability = double.Parse(output.Split("\r\n")[1].Split(',')[2], System.Globalization.CultureInfo.InvariantCulture);
        var expected = fixture.Model.Predictor.Predict("Rossini", fixture.Model.Predictor.Options()).Confidence;
        Assert.Equal(expected, probability, 6);
    }

    [Fact]
    public async Task NdjsonObjectsKeepEveryMemberAsWrittenAndGainThePrediction()
    {
        var output = await Score("{\"id\": 1, \"name\": \"Rossini\", \"tags\": {\"a\": [1, 2.50]}}\n{\"name\":\"Ivanov\"}\n", BulkFormat.Ndjson, top: 1);

        var lines = output.Split('\n');
        Assert.StartsWith("{\"id\": 1, \"name\": \"Rossini\", \"tags\": {\"a\": [1, 2.50]},\"language\":\"Italian\",", lines[0]);
        using var second = JsonDocument.Parse(lines[1]);
        Assert.Equal("Russian", second.RootElement.GetProperty("language").GetString());
        Assert.Equal(1, second.RootElement.GetProperty("modelVersion").GetInt32());
        Assert.Equal("Russian", second.RootElement.GetProperty("top")[0].GetProperty("language").GetString());
        Assert.False(second.RootElement.TryGetProperty("error", out _));
        Assert.Equal("", lines[2]);
    }

    [Fact]
    public async Task EachKindOfBadNdjsonLineGetsItsLineAndReasonAndNothingOfItIsLost()
    {
        var input = "{\"name\":\"Rossini\"}\n\n{\"name\":\"\"}\nnot json\n[1,2]\n{\"id\":5}\n{\"name\":42}\n{\"name\":\"Lopez\"} trailing\n{\"name\":\"Lopez\"}\n";

        var lines = (await Score(input, BulkFormat.Ndjson)).Split('\n');

        Assert.Equal(9, lines.Length);                                 // blank line skipped, last newline
        Assert.Equal((3, "name is empty"), Error(lines[1]));
        Assert.Equal((4, "malformed line: not one valid JSON object"), Error(lines[2]));
        Assert.Equal("not json", JsonDocument.Parse(lines[2]).RootElement.GetProperty("input").GetString());
        Assert.Equal((5, "malformed line: not a JSON object"), Error(lines[3]));
        Assert.Equal((6, "no 'name' member"), Error(lines[4]));
        Assert.Equal(5, JsonDocument.Parse(lines[4]).RootElement.GetProperty("id").GetInt32());
        Assert.Equal((7, "'name' is not a string"), Error(lines[5]));
        Assert.Equal((8, "malformed line: not one valid JSON object"), Error(lines[6]));
        Assert.Equal("Spanish", JsonDocument.Parse(lines[7]).RootElement.GetProperty("language").GetString());
    }

    [Fact]
    public async Task PlainLinesBecomeCsvWithANameColumnAndAnEmptyLineIsAnEmptyName()
    {
        var output = await Score("\uFEFFRossini\r\n\r\nIvanov", BulkFormat.Lines, BulkFormat.Csv);

        var lines = output.Split("\r\n");
        Assert.Equal("name,language,probability,uncertain,reasons,prediction_set,model_version,error", lines[0]);
        Assert.StartsWith("Rossini,Italian,", lines[1]);
        Assert.Equal(",,,,,,1,line 2: name is empty", lines[2]);
        Assert.StartsWith("Ivanov,Russian,", lines[3]);
    }

    [Fact]
    public async Task AnOverlongLineIsABadRowAndTheLinesAfterItAreScored()
    {
        var output = await Score("Rossini\n" + new string('x', BulkReaders.MaxRowBytes + 10) + "\nIvanov\n", BulkFormat.Lines, BulkFormat.Csv);

        var lines = output.Split("\r\n");
        Assert.Equal($",,,,,,1,line 2: line longer than {BulkReaders.MaxRowBytes} bytes", lines[2]);
        Assert.StartsWith("Ivanov,Russian,", lines[3]);
    }

    [Fact]
    public async Task CsvRowsCanBeWrittenAsNdjsonObjectsOfTheirColumns()
    {
        var output = await Score("id,name\n1,Rossini\n", BulkFormat.Csv, BulkFormat.Ndjson);

        using var row = JsonDocument.Parse(output.Split('\n')[0]);
        Assert.Equal("1", row.RootElement.GetProperty("id").GetString());
        Assert.Equal("Rossini", row.RootElement.GetProperty("name").GetString());
        Assert.Equal("Italian", row.RootElement.GetProperty("language").GetString());
    }

    [Fact]
    public async Task ManyChunksKeepInputOrderAndReportProgress()
    {
        var names = Enumerable.Range(0, 2 * BulkScoring.ChunkRows + 7).Select(i => (i % 3) switch { 0 => "Rossini", 1 => "Ivanov", _ => "Lopez" }).ToArray();
        var reports = new List<BulkProgress>();
        var output = await Score("id,name\n" + string.Concat(names.Select((name, i) => $"{i},{name}\n")), BulkFormat.Csv, progress: new Collect(reports));

        var rows = output.Split("\r\n")[1..^1];
        Assert.Equal(names.Length, rows.Length);
        Assert.Equal(Enumerable.Range(0, names.Length).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), rows.Select(row => row.Split(',')[0]));
        Assert.Equal([BulkScoring.ChunkRows, 2 * BulkScoring.ChunkRows, names.Length], reports.Select(report => report.Rows));
    }

    private static (long Line, string Reason) Error(string line)
    {
        var error = JsonDocument.Parse(line).RootElement.GetProperty("error");
        return (error.GetProperty("line").GetInt64(), error.GetProperty("reason").GetString()!);
    }

    private async Task<string> Score(
        string input, BulkFormat format, BulkFormat? outputFormat = null, string column = "name", int top = 0, BulkOptions? options = null, IProgress<BulkProgress>? progress = null)
    {
        using var source = new MemoryStream(Encoding.UTF8.GetBytes(input));
        using var destination = new MemoryStream();
        var scorer = new NameScorer(fixture.Model.Predictor, top);
        await BulkScoring.ScoreAsync(source, format, destination, outputFormat ?? format.DefaultOutput(), scorer, options ?? new BulkOptions(column), progress);
        return Encoding.UTF8.GetString(destination.ToArray());
    }

    private sealed class Collect(List<BulkProgress> reports) : IProgress<BulkProgress>
    {
        public void Report(BulkProgress value) => reports.Add(value);
    }
}
