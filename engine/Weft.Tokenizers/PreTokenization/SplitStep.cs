using System.Runtime.CompilerServices;
using Weft.Tokenizers.Unicode;

namespace Weft.Tokenizers.PreTokenization;

/// <summary>One splitting pass over a piece of text: appends the lengths of sub-pieces that cover it exactly.</summary>
internal abstract class SplitStep
{
    public abstract void Split(ReadOnlySpan<int> cps, ReadOnlySpan<CodepointFlags> flags, List<int> lengths);

    private protected const CodepointFlags WLN = CodepointFlags.Whitespace | CodepointFlags.Letter | CodepointFlags.Number;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected static CodepointFlags At(ReadOnlySpan<CodepointFlags> f, int i) => (uint)i < (uint)f.Length ? f[i] : CodepointFlags.None;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected static int CpAt(ReadOnlySpan<int> c, int i) => (uint)i < (uint)c.Length ? c[i] : -1;

    /// <summary>Matches <c>'s 't 're 've 'm 'll 'd</c> at <paramref name="i"/>; returns the match length or 0.</summary>
    private protected static int Contraction(ReadOnlySpan<int> cps, int i, bool ignoreCase, bool foldLongS)
    {
        if (CpAt(cps, i) != '\'' || i + 1 >= cps.Length)
        {
            return 0;
        }
        int a = Lower(cps[i + 1], ignoreCase, foldLongS);
        if (a is 's' or 't' or 'm' or 'd')
        {
            return 2;
        }
        if (i + 2 < cps.Length)
        {
            int b = Lower(cps[i + 2], ignoreCase, foldLongS);
            if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
            {
                return 3;
            }
        }
        return 0;
    }

    private static int Lower(int c, bool ignoreCase, bool foldLongS)
    {
        if (!ignoreCase)
        {
            return c;
        }
        if (foldLongS && c == 0x17F)
        {
            return 's'; // Rust regex (?i) folds LATIN SMALL LETTER LONG S to s
        }
        return c is >= 'A' and <= 'Z' ? c + 32 : c;
    }
}

/// <summary>GPT-2: <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>.</summary>
internal sealed class Gpt2Step : SplitStep
{
    public override void Split(ReadOnlySpan<int> cps, ReadOnlySpan<CodepointFlags> f, List<int> lengths)
    {
        int n = cps.Length, i = 0, prev = 0;
        while (i < n)
        {
            int c = cps[i];
            int con = Contraction(cps, i, ignoreCase: false, foldLongS: false);
            if (con > 0)
            {
                i += con;
            }
            else
            {
                int sp = c == ' ' ? 1 : 0;
                CodepointFlags f2 = At(f, i + sp);
                if ((f2 & CodepointFlags.Letter) != 0)
                {
                    i += sp;
                    while ((At(f, i) & CodepointFlags.Letter) != 0) { i++; }
                }
                else if ((f2 & CodepointFlags.Number) != 0)
                {
                    i += sp;
                    while ((At(f, i) & CodepointFlags.Number) != 0) { i++; }
                }
                else if (f2 != CodepointFlags.None && (f2 & WLN) == 0)
                {
                    i += sp;
                    while (At(f, i) is var g && g != CodepointFlags.None && (g & WLN) == 0) { i++; }
                }
                else
                {
                    int w = 0;
                    while ((At(f, i + w) & CodepointFlags.Whitespace) != 0) { w++; }
                    if (w > 1 && i + w < n)
                    {
                        i += w - 1;
                    }
                    else if (w > 0)
                    {
                        i += w;
                    }
                    else
                    {
                        i++;
                    }
                }
            }
            lengths.Add(i - prev);
            prev = i;
        }
    }
}

/// <summary>
/// Llama 3 / cl100k: <c>(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</c>
/// (Qwen2 with single digits). tiktoken's cl100k adds <c>\s++$</c> before the newline rule.
/// </summary>
internal sealed class Llama3Step(int maxDigits, bool tiktoken) : SplitStep
{
    public override void Split(ReadOnlySpan<int> cps, ReadOnlySpan<CodepointFlags> f, List<int> lengths)
    {
        int n = cps.Length, i = 0, prev = 0;
        while (i < n)
        {
            int c = cps[i];
            CodepointFlags fl = f[i];
            int con = Contraction(cps, i, ignoreCase: true, foldLongS: tiktoken);
            if (con > 0)
            {
                i += con;
            }
            else if (c != '\r' && c != '\n' && (fl & CodepointFlags.Number) == 0
                && ((fl & CodepointFlags.Letter) != 0 || (At(f, i + 1) & CodepointFlags.Letter) != 0))
            {
                i++;
                while ((At(f, i) & CodepointFlags.Letter) != 0) { i++; }
            }
            else if ((fl & CodepointFlags.Number) != 0)
            {
                int start = i;
                while (i - start < maxDigits && (At(f, i) & CodepointFlags.Number) != 0) { i++; }
            }
            else if ((c == ' ' ? At(f, i + 1) : fl) is var f2 && (f2 & WLN) == 0 && f2 != CodepointFlags.None)
            {
                i += c == ' ' ? 1 : 0;
                while (At(f, i) is var g && g != CodepointFlags.None && (g & WLN) == 0) { i++; }
                while (CpAt(cps, i) is '\r' or '\n') { i++; }
            }
            else
            {
                int w = 0, lastNl = -1;
                while ((At(f, i + w) & CodepointFlags.Whitespace) != 0)
                {
                    if (cps[i + w] is '\r' or '\n')
                    {
                        lastNl = i + w + 1;
                    }
                    w++;
                }
                if (tiktoken && w > 0 && i + w == n)
                {
                    i += w; // \s++$
                }
                else if (lastNl > 0)
                {
                    i = lastNl;
                }
                else if (w > 1 && i + w < n)
                {
                    i += w - 1;
                }
                else if (w > 0)
                {
                    i += w;
                }
                else
                {
                    i++;
                }
            }
            lengths.Add(i - prev);
            prev = i;
        }
    }
}

/// <summary>
/// o200k (GPT-4o): case-aware words
/// <c>[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|…)?</c>,
/// <c>[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|…)?</c>,
/// <c>\p{N}{1,3}</c>, <c> ?[^\s\p{L}\p{N}]+[\r\n/]*</c>, <c>\s*[\r\n]+</c>, <c>\s+(?!\S)</c>, <c>\s+</c>.
/// The backtracking of the first two alternatives is resolved in closed form (see comments).
/// </summary>
internal sealed class O200kStep : SplitStep
{
    private const CodepointFlags A = CodepointFlags.UpperOrTitle | CodepointFlags.ModifierOrOtherLetter | CodepointFlags.Mark;
    private const CodepointFlags B = CodepointFlags.Lower | CodepointFlags.ModifierOrOtherLetter | CodepointFlags.Mark;

    public override void Split(ReadOnlySpan<int> cps, ReadOnlySpan<CodepointFlags> f, List<int> lengths)
    {
        int n = cps.Length, i = 0, prev = 0;
        while (i < n)
        {
            i = Match(cps, f, i);
            lengths.Add(i - prev);
            prev = i;
        }
    }

    private static int Match(ReadOnlySpan<int> cps, ReadOnlySpan<CodepointFlags> f, int i)
    {
        int n = cps.Length;
        int c = cps[i];
        CodepointFlags fl = f[i];
        bool canPrefix = c != '\r' && c != '\n' && (fl & (CodepointFlags.Letter | CodepointFlags.Number)) == 0;

        // Alternative 1: prefix? A* B+ — for each prefix choice, A* is greedy and gives back characters until B+
        // can start: the match ends after the first B run following the A run, or else after the last B inside it.
        for (int p = canPrefix ? 1 : 0; p >= 0; p--)
        {
            int s = i + p;
            int aEnd = s;
            while ((At(f, aEnd) & A) != 0) { aEnd++; }
            int end = -1;
            if ((At(f, aEnd) & B) != 0)
            {
                end = aEnd;
                while ((At(f, end) & B) != 0) { end++; }
            }
            else
            {
                for (int k = aEnd - 1; k >= s; k--)
                {
                    if ((f[k] & B) != 0)
                    {
                        end = k + 1;
                        break;
                    }
                }
            }
            if (end > 0)
            {
                return end + Contraction(cps, end, ignoreCase: true, foldLongS: true);
            }
        }
        // Alternative 2: prefix? A+ B*.
        for (int p = canPrefix ? 1 : 0; p >= 0; p--)
        {
            int s = i + p;
            if ((At(f, s) & A) == 0)
            {
                continue;
            }
            int end = s;
            while ((At(f, end) & A) != 0) { end++; }
            while ((At(f, end) & B) != 0) { end++; }
            return end + Contraction(cps, end, ignoreCase: true, foldLongS: true);
        }
        // \p{N}{1,3}
        if ((fl & CodepointFlags.Number) != 0)
        {
            int end = i;
            while (end - i < 3 && (At(f, end) & CodepointFlags.Number) != 0) { end++; }
            return end;
        }
        // " ?[^\s\p{L}\p{N}]+[\r\n/]*"
        {
            int s = i;
            if (c == ' ' && At(f, i + 1) is var g1 && g1 != CodepointFlags.None && (g1 & WLN) == 0)
            {
                s = i + 1;
            }
            if (At(f, s) is var g0 && g0 != CodepointFlags.None && (g0 & WLN) == 0)
            {
                int end = s;
                while (At(f, end) is var g && g != CodepointFlags.None && (g & WLN) == 0) { end++; }
                while (CpAt(cps, end) is '\r' or '\n' or '/') { end++; }
                return end;
            }
        }
        // Whitespace rules.
        int w = 0, lastNl = -1;
        while ((At(f, i + w) & CodepointFlags.Whitespace) != 0)
        {
            if (cps[i + w] is '\r' or '\n')
            {
                lastNl = i + w + 1;
            }
            w++;
        }
        if (lastNl > 0)
        {
            return lastNl;
        }
        if (w > 1 && i + w < n)
        {
            return i + w - 1;
        }
        return i + Math.Max(w, 1);
    }
}

/// <summary>A set of code points: category flags, single characters, or ranges.</summary>
internal sealed class CharClass
{
    private readonly CodepointFlags _flags;
    private readonly (int Lo, int Hi)[] _ranges;

    private CharClass(CodepointFlags flags, (int, int)[] ranges)
    {
        _flags = flags;
        _ranges = ranges;
    }

    public static CharClass Flags(CodepointFlags flags) => new(flags, []);

    public static CharClass FlagsOrChars(CodepointFlags flags, string chars) =>
        new(flags, chars.Select(ch => ((int)ch, (int)ch)).ToArray());

    /// <summary>Parses a regex bracket body of literal characters and <c>a-b</c> ranges.</summary>
    public static CharClass FromRanges(string body)
    {
        int[] cps = body.EnumerateRunes().Select(r => r.Value).ToArray();
        var list = new List<(int, int)>();
        for (int i = 0; i < cps.Length; i++)
        {
            if (i + 2 < cps.Length && cps[i + 1] == '-')
            {
                list.Add((cps[i], cps[i + 2]));
                i += 2;
            }
            else
            {
                list.Add((cps[i], cps[i]));
            }
        }
        return new CharClass(CodepointFlags.None, list.ToArray());
    }

    public bool Contains(int cp, CodepointFlags flags)
    {
        if ((flags & _flags) != 0)
        {
            return true;
        }
        foreach ((int lo, int hi) in _ranges)
        {
            if (cp >= lo && cp <= hi)
            {
                return true;
            }
        }
        return false;
    }
}

/// <summary>
/// <c>\s?[class]{min,max}</c> searched left to right like std::regex_iterator: matches and the gaps between them
/// both become pieces.
/// </summary>
internal sealed class ClassRunStep(CharClass cls, bool leadingSpace, int min, int max) : SplitStep
{
    public static readonly ClassRunStep Newline = new(CharClass.FromRanges("\r\n"), false, 1, 1);

    public override void Split(ReadOnlySpan<int> cps, ReadOnlySpan<CodepointFlags> f, List<int> lengths)
    {
        int n = cps.Length, i = 0, gapStart = 0;
        while (i < n)
        {
            int len = MatchAt(cps, f, i);
            if (len == 0)
            {
                i++;
                continue;
            }
            if (i > gapStart)
            {
                lengths.Add(i - gapStart);
            }
            lengths.Add(len);
            i += len;
            gapStart = i;
        }
        if (n > gapStart)
        {
            lengths.Add(n - gapStart);
        }
    }

    private int MatchAt(ReadOnlySpan<int> cps, ReadOnlySpan<CodepointFlags> f, int i)
    {
        if (leadingSpace && (f[i] & CodepointFlags.Whitespace) != 0)
        {
            int run = Run(cps, f, i + 1);
            if (run >= min)
            {
                return 1 + run;
            }
        }
        int r = Run(cps, f, i);
        return r >= min ? r : 0;
    }

    private int Run(ReadOnlySpan<int> cps, ReadOnlySpan<CodepointFlags> f, int i)
    {
        int k = 0;
        while (k < max && i + k < cps.Length && cls.Contains(cps[i + k], f[i + k]))
        {
            k++;
        }
        return k;
    }
}

/// <summary><c>\s+$</c>: splits off the whitespace that ends the piece.</summary>
internal sealed class TrailingWhitespaceStep : SplitStep
{
    public override void Split(ReadOnlySpan<int> cps, ReadOnlySpan<CodepointFlags> f, List<int> lengths)
    {
        int n = cps.Length, s = n;
        while (s > 0 && (f[s - 1] & CodepointFlags.Whitespace) != 0)
        {
            s--;
        }
        if (s > 0)
        {
            lengths.Add(s);
        }
        if (s < n)
        {
            lengths.Add(n - s);
        }
    }
}
