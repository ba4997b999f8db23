namespace Weft.Tokenizers.Unicode;

/// <summary>Character classes the pre-tokenizers test, one bit each. Every real code point has at least one bit set.</summary>
[Flags]
public enum CodepointFlags : ushort
{
    /// <summary>Position outside the text (the end): no class at all.</summary>
    None = 0,
    /// <summary>\p{L}: any letter.</summary>
    Letter = 1 << 0,
    /// <summary>\p{N}: decimal digits, letter numbers, other numbers.</summary>
    Number = 1 << 1,
    /// <summary>\p{P}: punctuation.</summary>
    Punctuation = 1 << 2,
    /// <summary>\p{M}: combining marks.</summary>
    Mark = 1 << 3,
    /// <summary>\p{S}: symbols.</summary>
    Symbol = 1 << 4,
    /// <summary>\s: the Unicode White_Space property.</summary>
    Whitespace = 1 << 5,
    /// <summary>Controls, format characters, separators, private use, surrogates and unassigned code points.</summary>
    Other = 1 << 6,
    /// <summary>\p{Lu} or \p{Lt}.</summary>
    UpperOrTitle = 1 << 7,
    /// <summary>\p{Ll}.</summary>
    Lower = 1 << 8,
    /// <summary>\p{Lm} or \p{Lo}.</summary>
    ModifierOrOtherLetter = 1 << 9,
    /// <summary>\p{Cc}: a control character (used by WordPiece cleaning).</summary>
    Control = 1 << 10,
    /// <summary>\p{Cf}: a format character.</summary>
    Format = 1 << 11,
    /// <summary>\p{Mn}: a non-spacing mark (removed by accent stripping).</summary>
    NonSpacingMark = 1 << 12,
}
