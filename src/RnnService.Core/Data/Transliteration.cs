using System.Text;

namespace RnnService.Core.Data;

/// <summary>
/// Romanises Cyrillic and Greek letters the way the data set spells such names ("иванов" → "ivanov",
/// "παπαδόπουλος" → "papadopoulos"). The training names are all in Latin script, so without this a name written in its
/// own alphabet would reach the model as nothing but unknown characters.
/// </summary>
public static class Transliteration
{
    private static readonly Dictionary<char, string> Letters = new()
    {
        // Russian (with Ukrainian and Belarusian extras), in the style of the data set: Ivanov, Zhukov, Shchukin, Yakovlev.
        ['а'] = "a", ['б'] = "b", ['в'] = "v", ['г'] = "g", ['д'] = "d", ['е'] = "e", ['ё'] = "yo", ['ж'] = "zh",
        ['з'] = "z", ['и'] = "i", ['й'] = "y", ['к'] = "k", ['л'] = "l", ['м'] = "m", ['н'] = "n", ['о'] = "o",
        ['п'] = "p", ['р'] = "r", ['с'] = "s", ['т'] = "t", ['у'] = "u", ['ф'] = "f", ['х'] = "kh", ['ц'] = "ts",
        ['ч'] = "ch", ['ш'] = "sh", ['щ'] = "shch", ['ъ'] = "", ['ы'] = "y", ['ь'] = "", ['э'] = "e", ['ю'] = "yu",
        ['я'] = "ya", ['і'] = "i", ['ї'] = "yi", ['є'] = "ye", ['ґ'] = "g", ['ў'] = "u",
        // Greek, accented vowels included.
        ['α'] = "a", ['β'] = "v", ['γ'] = "g", ['δ'] = "d", ['ε'] = "e", ['ζ'] = "z", ['η'] = "i", ['θ'] = "th",
        ['ι'] = "i", ['κ'] = "k", ['λ'] = "l", ['μ'] = "m", ['ν'] = "n", ['ξ'] = "x", ['ο'] = "o", ['π'] = "p",
        ['ρ'] = "r", ['σ'] = "s", ['ς'] = "s", ['τ'] = "t", ['υ'] = "y", ['φ'] = "f", ['χ'] = "ch", ['ψ'] = "ps",
        ['ω'] = "o", ['ά'] = "a", ['έ'] = "e", ['ή'] = "i", ['ί'] = "i", ['ό'] = "o", ['ύ'] = "y", ['ώ'] = "o",
        ['ϊ'] = "i", ['ϋ'] = "y", ['ΐ'] = "i", ['ΰ'] = "y",
    };

    /// <summary>Greek pairs romanised as a unit: "ου" is "ou", not "oy".</summary>
    private static readonly Dictionary<string, string> GreekPairs = new()
    {
        ["ου"] = "ou", ["ού"] = "ou", ["αυ"] = "av", ["αύ"] = "av", ["ευ"] = "ev", ["εύ"] = "ev",
    };

    /// <summary>True when the text has a Cyrillic or Greek letter (of either case) this class romanises.</summary>
    public static bool Applies(string text)
    {
        foreach (var ch in text)
        {
            if (Letters.ContainsKey(char.ToLowerInvariant(ch))) return true;
        }
        return false;
    }

    /// <summary>The lower-case text with its Cyrillic and Greek letters romanised; everything else unchanged.</summary>
    public static string ToLatin(string lowerCase)
    {
        if (!Applies(lowerCase)) return lowerCase;
        var latin = new StringBuilder(lowerCase.Length + 4);
        for (var i = 0; i < lowerCase.Length; i++)
        {
            if (i + 1 < lowerCase.Length && GreekPairs.TryGetValue(lowerCase.Substring(i, 2), out var pair))
            {
                latin.Append(pair);
                i++;
            }
            else
            {
                latin.Append(Letters.TryGetValue(lowerCase[i], out var letters) ? letters : lowerCase[i].ToString());
            }
        }
        return latin.ToString();
    }
}
