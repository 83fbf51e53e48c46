using RnnService.Core.Data;

namespace RnnService.Core.Tests;

public class NameNormalizerTests
{
    [Theory]
    [InlineData("  Nakamura ", "nakamura")]
    [InlineData("Ter   Avest", "ter avest")]
    [InlineData("O'Neal", "o'neal")]
    [InlineData("MÜLLER", "müller")]
    [InlineData("Ｓｃｈｍｉｄｔ", "schmidt")]
    [InlineData("\tAu-Yong\n", "au-yong")]
    public void NormalizesCaseSpacesAndWidth(string raw, string expected) => Assert.Equal(expected, NameNormalizer.Normalize(raw));

    [Fact]
    public void ComposedAndDecomposedAccentsBecomeTheSameName()
    {
        var composed = NameNormalizer.Normalize("B\u00e9langer");
        var decomposed = NameNormalizer.Normalize("Be\u0301langer");

        Assert.Equal(composed, decomposed);
        Assert.Equal("bélanger", composed);
    }

    [Fact]
    public void AccentsAreKeptBecauseTheyIdentifyLanguages() => Assert.NotEqual(NameNormalizer.Normalize("Müller"), NameNormalizer.Normalize("Muller"));

    [Theory]
    [InlineData("kamiński", true)]
    [InlineData("иванов", true)]
    [InlineData("123 -'", false)]
    [InlineData("", false)]
    public void HasLetterTellsWhetherThereIsAnythingToRead(string name, bool expected) => Assert.Equal(expected, NameNormalizer.HasLetter(name));
}
