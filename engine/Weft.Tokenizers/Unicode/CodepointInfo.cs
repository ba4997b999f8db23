using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace Weft.Tokenizers.Unicode;

/// <summary>
/// Unicode classification of code points for the pre-tokenizers: general category (from .NET's Unicode tables) and
/// the White_Space property (the set Rust's regex <c>\s</c>, PCRE and llama.cpp's unicode tables use).
/// </summary>
public static class CodepointInfo
{
    private static readonly ushort[] s_bmp = BuildBmp();

    /// <summary>The classes of <paramref name="cp"/>; <see cref="CodepointFlags.Other"/> for values outside Unicode.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static CodepointFlags Get(int cp) => (uint)cp < 0x10000u ? (CodepointFlags)s_bmp[cp] : Compute(cp);

    /// <summary>True for the White_Space code points.</summary>
    public static bool IsWhitespace(int cp) => cp switch
    {
        >= 0x09 and <= 0x0D => true,
        0x20 or 0x85 or 0xA0 or 0x1680 => true,
        >= 0x2000 and <= 0x200A => true,
        0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        _ => false,
    };

    /// <summary>Simple (one to one) lowercase mapping.</summary>
    public static int ToLower(int cp)
    {
        if (cp < 0x80)
        {
            return cp is >= 'A' and <= 'Z' ? cp + 32 : cp;
        }
        if ((uint)cp > 0x10FFFF || cp is >= 0xD800 and <= 0xDFFF)
        {
            return cp;
        }
        return Rune.ToLowerInvariant(new Rune(cp)).Value;
    }

    private static ushort[] BuildBmp()
    {
        var table = new ushort[0x10000];
        for (int cp = 0; cp < table.Length; cp++)
        {
            table[cp] = (ushort)Compute(cp);
        }
        return table;
    }

    private static CodepointFlags Compute(int cp)
    {
        if ((uint)cp > 0x10FFFF)
        {
            return CodepointFlags.Other;
        }
        CodepointFlags f = CharUnicodeInfo.GetUnicodeCategory(cp) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.TitlecaseLetter => CodepointFlags.Letter | CodepointFlags.UpperOrTitle,
            UnicodeCategory.LowercaseLetter => CodepointFlags.Letter | CodepointFlags.Lower,
            UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CodepointFlags.Letter | CodepointFlags.ModifierOrOtherLetter,
            UnicodeCategory.NonSpacingMark => CodepointFlags.Mark | CodepointFlags.NonSpacingMark,
            UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => CodepointFlags.Mark,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => CodepointFlags.Number,
            UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
                or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
                or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation => CodepointFlags.Punctuation,
            UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol or UnicodeCategory.ModifierSymbol
                or UnicodeCategory.OtherSymbol => CodepointFlags.Symbol,
            UnicodeCategory.Control => CodepointFlags.Other | CodepointFlags.Control,
            UnicodeCategory.Format => CodepointFlags.Other | CodepointFlags.Format,
            _ => CodepointFlags.Other,
        };
        if (IsWhitespace(cp))
        {
            f |= CodepointFlags.Whitespace;
        }
        return f;
    }
}
