using System.Buffers;
using System.Text;

namespace RnnService.Core.Data;

/// <summary>
/// The one normalisation that training and prediction share, so the model always sees names spelled the same way.
/// </summary>
/// <remarks>
/// Trim and collapse inner whitespace, because stray spaces in the data and in requests carry no meaning.
/// Unicode NFKC, so composed and decomposed accents ("é" as one or two code points) and full-width letters
/// become the same characters. Lower case, because case only marks the first letter of a family name and says
/// nothing about its language; it halves the vocabulary. Accents are kept: ä, ł, ñ, ç are some of the strongest
/// clues to a name's language, and stripping them would make "Müller" and "Muller" the same name. Cyrillic and Greek
/// letters are romanised (<see cref="Transliteration"/>), as the training names are: "Иванов" reads as "ivanov".
/// </remarks>
public static class NameNormalizer
{
    /// <summary>Identifies this normalisation in model manifests; change it whenever the rules change.</summary>
    public const string Scheme = "trim+collapse-spaces+NFKC+lower-invariant+romanise-cyrillic-greek";

    public static string Normalize(string raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var text = raw.Normalize(NormalizationForm.FormKC);                    // the same instance when already NFKC
        // Built in a stack (or pooled) buffer: this runs on every prediction, and only the result should allocate.
        char[]? rented = null;
        var buffer = text.Length <= StackLength ? stackalloc char[StackLength] : rented = ArrayPool<char>.Shared.Rent(text.Length);
        var length = 0;
        var pendingSpace = false;
        foreach (var ch in text)
        {
            if (char.IsWhiteSpace(ch))
            {
                pendingSpace = length > 0;
                continue;
            }
            if (pendingSpace)
            {
                buffer[length++] = ' ';
                pendingSpace = false;
            }
            buffer[length++] = char.ToLowerInvariant(ch);
        }
        var lowerCase = new string(buffer[..length]);
        if (rented is not null) ArrayPool<char>.Shared.Return(rented);
        return Transliteration.ToLatin(lowerCase);
    }

    private const int StackLength = 256;

    /// <summary>
    /// The name as written, without leading, trailing or repeated whitespace: what a response may echo. Whitespace
    /// carries no meaning (see above), so a name padded with a quarter of a megabyte of spaces comes back as its letters.
    /// </summary>
    public static string Tidy(string raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        if (IsTidy(raw)) return raw; // the usual case, allocating nothing
        var tidy = new StringBuilder(Math.Min(raw.Length, StackLength));
        foreach (var word in raw.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            if (tidy.Length > 0) tidy.Append(' ');
            tidy.Append(word);
        }
        return tidy.ToString();
    }

    private static bool IsTidy(string raw)
    {
        if (raw.Length > 0 && (char.IsWhiteSpace(raw[0]) || char.IsWhiteSpace(raw[^1]))) return false;
        for (var i = 1; i < raw.Length; i++)
        {
            if (char.IsWhiteSpace(raw[i]) && (raw[i] != ' ' || char.IsWhiteSpace(raw[i - 1]))) return false;
        }
        return true;
    }

    /// <summary>True when the normalised name has at least one letter, i.e. something a model can read.</summary>
    public static bool HasLetter(string normalized) => normalized.Any(char.IsLetter);
}
