using System.Text;
using Weft.Tests;

namespace Weft.Tokenizers.Tests;

/// <summary>decode(encode(text)) == text on the whole of War and Peace for every lossless tokenizer.</summary>
public sealed class RoundTripTests
{
    private static string? s_corpus;

    internal static string Corpus() => s_corpus ??= Encoding.UTF8.GetString(File.ReadAllBytes(TestAssets.Require("corpora/war-and-peace.txt")));

    public static IEnumerable<string> Lossless()
    {
        foreach (string v in LlamaCppConformanceTests.AllVocabs)
        {
            if (v != "bert-bge")
            {
                yield return "gguf:" + v;
            }
        }
        foreach (string f in new[] { "cl100k_base.tiktoken", "o200k_base.tiktoken", "p50k_base.tiktoken", "r50k_base.tiktoken", "vocab.bpe" })
        {
            yield return "tiktoken:" + f;
        }
        yield return "llama3";
    }

    internal static Tokenizer Resolve(string key) => key switch
    {
        "llama3" => LlamaCppConformanceTests.Llama3(),
        _ when key.StartsWith("gguf:", StringComparison.Ordinal) => LlamaCppConformanceTests.Get(key[5..]),
        _ => TiktokenConformanceTests.Get(key[9..]),
    };

    [TestCaseSource(nameof(Lossless))]
    public void WarAndPeaceRoundTrips(string key)
    {
        Tokenizer tok = Resolve(key);
        string text = Corpus();
        int[] ids = tok.Encode(text, addSpecial: false);
        string back = tok.Decode(ids);
        if (back != text)
        {
            int i = 0;
            while (i < Math.Min(back.Length, text.Length) && back[i] == text[i])
            {
                i++;
            }
            Assert.Fail($"{key}: first difference at char {i}: expected '{text.Substring(i, Math.Min(40, text.Length - i))}' got '{back.Substring(i, Math.Min(40, back.Length - i))}'");
        }
        Assert.That(ids.Length, Is.GreaterThan(text.Length / 10));
    }
}
