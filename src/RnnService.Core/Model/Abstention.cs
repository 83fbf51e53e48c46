using RnnService.Core.Data;

namespace RnnService.Core.Model;

/// <summary>
/// When an answer should not be trusted, and why. The flags inform; the probabilities are still returned.
/// </summary>
public static class Abstention
{
    /// <summary>Below this top probability the model is too unsure to name one language.</summary>
    public const double LowConfidence = 0.5;

    /// <summary>From this share of characters unknown to the vocabulary on, the model is mostly guessing.</summary>
    public const double UnknownCharacterShare = 0.25;

    public const string LowConfidenceReason = "low_confidence";
    public const string UnknownCharactersReason = "unknown_characters";
    public const string UnsupportedScriptReason = "unsupported_script";

    /// <summary>Machine-readable reasons not to trust the prediction of a normalised name; empty when there are none.</summary>
    public static IReadOnlyList<string> Reasons(string normalizedName, Vocabulary vocabulary, double topProbability)
    {
        int characters = 0, unknown = 0;
        var otherScript = false;
        foreach (var ch in normalizedName)
        {
            if (ch == ' ') continue;
            characters++;
            if (!vocabulary.Contains(ch)) unknown++;
            otherScript |= char.IsLetter(ch) && !IsLatin(ch);
        }
        var reasons = new List<string>();
        if (topProbability < LowConfidence) reasons.Add(LowConfidenceReason);
        if (characters > 0 && (double)unknown / characters >= UnknownCharacterShare) reasons.Add(UnknownCharactersReason);
        if (otherScript) reasons.Add(UnsupportedScriptReason);
        return reasons;
    }

    /// <summary>Latin letters: Basic Latin to Latin Extended-B, and Latin Extended Additional.</summary>
    private static bool IsLatin(char ch) => ch <= '\u024F' || ch is >= '\u1E00' and <= '\u1EFF';
}
