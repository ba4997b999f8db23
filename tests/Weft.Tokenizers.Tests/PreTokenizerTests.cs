using System.Text;
using System.Text.RegularExpressions;
using Weft.Tokenizers.PreTokenization;
using Weft.Tokenizers.Unicode;

namespace Weft.Tokenizers.Tests;

/// <summary>
/// The hand-written scanners against .NET's backtracking Regex running the reference patterns (with <c>\z</c> for
/// Rust's end-of-text <c>$</c>) on random BMP text: an independent implementation of the same regex semantics.
/// </summary>
public sealed class PreTokenizerTests
{
    private const string Gpt2 = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
    private const string Cl100k = @"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s+\z|\s*[\r\n]|\s+(?!\S)|\s";
    private const string Llama3 = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string Qwen2 = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string O200k = @"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    // A small alphabet that exercises every branch: cases, marks, modifier/other letters, digits (incl. non-ASCII),
    // apostrophes and contraction letters, ASCII and Unicode whitespace, newlines, punctuation, symbols, CJK.
    private const string Alphabet = "aAsStTdDmMlLvVrReE'' \t\n\r\u00A0\u3000\u2003xyzÉéß\u0301\u0308ʰ々あ我想1٣²Ⅻ.,!?/-_$+<=>^`|~\"()😀☃€½\u200D\u0007";

    public static IEnumerable<TestCaseData> Families()
    {
        yield return new TestCaseData("gpt2", Gpt2);
        yield return new TestCaseData("cl100k_base", Cl100k);
        yield return new TestCaseData("llama3", Llama3);
        yield return new TestCaseData("qwen2", Qwen2);
        yield return new TestCaseData("o200k_base", O200k);
    }

    internal static List<string> Pieces(PreTokenizer pre, string text)
    {
        int[] cps = text.EnumerateRunes().Select(r => r.Value).ToArray();
        CodepointFlags[] flags = cps.Select(CodepointInfo.Get).ToArray();
        var lengths = new List<int>();
        pre.Split(cps, flags, lengths);
        Assert.That(lengths.Sum(), Is.EqualTo(cps.Length), "pieces must cover the text");
        var result = new List<string>();
        int at = 0;
        foreach (int len in lengths)
        {
            var sb = new StringBuilder();
            for (int i = at; i < at + len; i++)
            {
                sb.Append(char.ConvertFromUtf32(cps[i]));
            }
            result.Add(sb.ToString());
            at += len;
        }
        return result;
    }

    [TestCaseSource(nameof(Families))]
    public void ScannerMatchesBacktrackingRegex(string name, string pattern)
    {
        var regex = new Regex(pattern, RegexOptions.CultureInvariant);
        PreTokenizer pre = PreTokenizer.ForName(name);
        int[] alphabet = Alphabet.EnumerateRunes().Select(r => r.Value).ToArray();
        var rng = new Random(12345);
        for (int iter = 0; iter < 4000; iter++)
        {
            var sb = new StringBuilder();
            int len = rng.Next(0, 24);
            for (int i = 0; i < len; i++)
            {
                sb.Append(char.ConvertFromUtf32(alphabet[rng.Next(alphabet.Length)]));
            }
            string text = sb.ToString();
            if (text.Any(char.IsSurrogate))
            {
                continue; // .NET Regex classifies UTF-16 units; keep the comparison to the BMP
            }
            List<string> expected = regex.Matches(text).Select(m => m.Value).ToList();
            Assert.That(string.Concat(expected), Is.EqualTo(text), "the reference pattern covers every character");
            Assert.That(Pieces(pre, text), Is.EqualTo(expected), $"{name}: {Escape(text)}");
        }
    }

    [Test]
    public void O200kSplitsOnCase()
    {
        PreTokenizer pre = PreTokenizer.ForName("o200k_base");
        Assert.That(Pieces(pre, "helloWORLD HTMLParser it's"), Is.EqualTo(new[] { "hello", "WORLD", " HTMLParser", " it's" }));
    }

    [Test]
    public void LlamaCppDeepseekLlmPipeline()
    {
        PreTokenizer pre = PreTokenizer.ForName("deepseek-llm");
        Assert.That(Pieces(pre, "Hello, world!\n我想 123  "), Is.EqualTo(new[] { "Hello", ",", " world", "!", "\n", "我想", " ", "123", "  " }));
    }

    [Test]
    public void UnknownNameIsRejected()
    {
        var ex = Assert.Throws<NotSupportedException>(() => PreTokenizer.ForName("no-such-pre"));
        Assert.That(ex!.Message, Does.Contain("no-such-pre").And.Contain("llama3"));
    }

    private static string Escape(string s) => string.Concat(s.Select(c => c < 0x20 || c > 0x7E ? $"\\u{(int)c:X4}" : c.ToString()));
}
