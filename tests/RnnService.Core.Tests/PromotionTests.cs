using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using RnnService.Core.Storage;
using RnnService.Core.Training;

namespace RnnService.Core.Tests;

/// <summary>The promotion rule, as the API's worker and the train command apply it: like with like, and a note that says which.</summary>
public sealed class PromotionTests : IDisposable
{
    private readonly TemporaryDirectory data = new();
    private readonly TemporaryDirectory models = new();
    private readonly TrainingRunner runner;

    public PromotionTests()
    {
        TestData.WriteDirectory(data);
        runner = new TrainingRunner(new ModelStore(models.Path), NullLogger<TrainingRunner>.Instance);
    }

    public void Dispose()
    {
        models.Dispose();
        data.Dispose();
    }

    [Fact]
    public void WithNothingServedANewModelIsPromoted()
    {
        var decision = runner.DecidePromotion(TinyModel.Manifest, serving: null, data.Path, Promotion.DefaultTolerance);

        Assert.True(decision.Promote);
        Assert.Contains("no model was being served", decision.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void OnTheSameValidationNamesTheRecordedScoresAreCompared()
    {
        var served = TinyModel.Manifest with { Version = 1, Metrics = WithValidationF1(TinyModel.Manifest, 0.9) };
        var candidate = TinyModel.Manifest with { Version = 2, Metrics = WithValidationF1(TinyModel.Manifest, 0.8) };

        var decision = runner.DecidePromotion(candidate, served, data.Path, tolerance: 0.05);

        Assert.False(decision.Promote);
        Assert.Contains("its validation macro-F1 0.8000 is more than 0.05 below version 1's 0.9000", decision.Note, StringComparison.Ordinal);
        Assert.Contains("same validation names", decision.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void AModelThatRecordedRawScoresIsScoredAsItServes()
    {
        // Same names, but the served manifest's scores are of raw logits (written before manifests scored answers):
        // its recorded 0.99 must not be what the candidate is held to.
        var served = runner.TrainAndPublish(data.Path, TinyModel.Config);
        var recorded = served with { Metrics = WithValidationF1(served, 0.99) with { AsServed = false } };
        var candidate = served with { Version = served.Version + 1 };

        var decision = runner.DecidePromotion(candidate, recorded, data.Path, tolerance: 0);

        Assert.True(decision.Promote, decision.Note);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"is at least version {served.Version}'s {served.Metrics.Validation.MacroF1:F4}"), decision.Note, StringComparison.Ordinal);
        Assert.Contains("recorded the scores of its raw logits", decision.Note, StringComparison.Ordinal);
        Assert.DoesNotContain("may have trained on", decision.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void AModelSplitDifferentlyIsScoredOnTheCandidatesValidationNames()
    {
        // The served model records a poor score on its own validation names; on the candidate's it does far better than
        // the candidate claims, so comparing the recorded scores would promote a worse model.
        var served = runner.TrainAndPublish(data.Path, TinyModel.Config with { SplitSeed = 11 });
        var recorded = served with { Metrics = WithValidationF1(served, 0.1) };
        var published = runner.TrainAndPublish(data.Path, TinyModel.Config);
        var candidate = published with { Metrics = WithValidationF1(published, 0.5) };

        var decision = runner.DecidePromotion(candidate, recorded, data.Path, tolerance: 0.02);

        Assert.False(decision.Promote, decision.Note);
        Assert.Contains("split differently", decision.Note, StringComparison.Ordinal);
        Assert.Contains("scored on this version's validation names", decision.Note, StringComparison.Ordinal);
        Assert.DoesNotContain("'s 0.1000", decision.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void AModelOfOtherLanguagesIsNotPromotedAutomatically()
    {
        var served = TinyModel.Manifest with
        {
            Version = 1,
            Languages = ["Italian", "Russian", "Greek"],
            Data = TinyModel.Manifest.Data with { Fingerprint = "another data set" },
        };

        var decision = runner.DecidePromotion(TinyModel.Manifest with { Version = 2 }, served, data.Path, Promotion.DefaultTolerance);

        Assert.False(decision.Promote);
        Assert.Contains("trained on other data and answers other languages", decision.Note, StringComparison.Ordinal);
    }

    private static ModelMetrics WithValidationF1(ModelManifest manifest, double macroF1) =>
        manifest.Metrics with { Validation = manifest.Metrics.Validation with { MacroF1 = macroF1 } };
}
