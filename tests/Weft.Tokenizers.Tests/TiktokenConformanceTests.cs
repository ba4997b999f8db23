using System.Text;
using System.Text.Json;
using Weft.Tests;

namespace Weft.Tokenizers.Tests;

/// <summary>tiktoken's conformance vectors (from dotnet/machinelearning): lib.rs.txt encoded by each encoding.</summary>
public sealed class TiktokenConformanceTests
{
    private static readonly Dictionary<string, Tokenizer> s_cache = new();

    internal static Tokenizer Get(string file)
    {
        lock (s_cache)
        {
            if (!s_cache.TryGetValue(file, out Tokenizer? t))
            {
                t = TokenizerLoader.Load(TestAssets.Require($"tokenizers/tiktoken/{file}"));
                s_cache[file] = t;
            }
            return t;
        }
    }

    internal static string Input() =>
        Encoding.UTF8.GetString(File.ReadAllBytes(TestAssets.Require("tokenizers/tiktoken-conformance/lib.rs.txt"))).Replace("\r", "");

    [TestCase("cl100k_base.tiktoken", "tokens.json", 5584)]
    [TestCase("o200k_base.tiktoken", "tokens_gpt4o.json", 5609)]
    [TestCase("p50k_base.tiktoken", "tokens_p50k_base.json", 7230)]
    [TestCase("r50k_base.tiktoken", "tokens_r50k_base.json", 11378)]
    [TestCase("vocab.bpe", "tokens_gpt2.json", 11378)]
    public void EncodesLibRsExactly(string vocab, string expectedFile, int expectedCount)
    {
        Tokenizer tok = Get(vocab);
        int[] expected = JsonSerializer.Deserialize<int[]>(File.ReadAllText(TestAssets.Require($"tokenizers/tiktoken-conformance/{expectedFile}")))!;
        Assert.That(expected, Has.Length.EqualTo(expectedCount));
        string text = Input();
        int[] got = tok.Encode(text, addSpecial: false);
        int firstDiff = Enumerable.Range(0, Math.Min(got.Length, expected.Length)).FirstOrDefault(i => got[i] != expected[i], -1);
        Assert.That(got, Is.EqualTo(expected), $"first difference at index {firstDiff}, lengths {got.Length} vs {expected.Length}");
        Assert.That(tok.Decode(got), Is.EqualTo(text));
    }

    [Test]
    public void SpecialTokensAreTextUnlessParsed()
    {
        Tokenizer tok = Get("cl100k_base.tiktoken");
        int[] plain = tok.Encode("a<|endoftext|>b", addSpecial: false, parseSpecial: false);
        int[] parsed = tok.Encode("a<|endoftext|>b", addSpecial: false, parseSpecial: true);
        Assert.That(plain, Does.Not.Contain(100257));
        Assert.That(parsed, Is.EqualTo(new[] { tok.Encode("a", false)[0], 100257, tok.Encode("b", false)[0] }));
        Assert.That(tok.Decode(parsed), Is.EqualTo("a<|endoftext|>b"));
        Assert.That(tok.Decode(parsed, skipSpecial: true), Is.EqualTo("ab"));
    }
}
