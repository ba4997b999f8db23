using Weft.Tests;

namespace Weft.Tokenizers.Tests;

public sealed class WordPieceTests
{
    private static Tokenizer MiniLm() => TokenizerLoader.Load(TestAssets.Require("tokenizers/wordpiece/all-MiniLM-L6-v2.tokenizer.json"));

    [Test]
    public void TokenizerJsonAgreesWithBertBgeSuite()
    {
        Tokenizer tok = MiniLm();
        Assert.That(tok, Is.InstanceOf<WordPieceTokenizer>());
        var cases = LlamaCppSuite.Read(TestAssets.Require("tokenizers/llamacpp/ggml-vocab-bert-bge.gguf.inp"),
            TestAssets.Require("tokenizers/llamacpp/ggml-vocab-bert-bge.gguf.out"));
        var failures = new List<string>();
        foreach ((string input, int[] expected) in cases)
        {
            int[] got = tok.Encode(input, addSpecial: false);
            if (!got.SequenceEqual(expected))
            {
                failures.Add($"'{input}': expected {string.Join(' ', expected)} got {string.Join(' ', got)}");
            }
        }
        Assert.That(failures, Is.Empty, string.Join("\n", failures));
    }

    [Test]
    public void AddsClsAndSepAndLowercasesAndStripsAccents()
    {
        Tokenizer tok = MiniLm();
        int[] ids = tok.Encode("Héllo, WORLD!", addSpecial: true);
        Assert.That(ids[0], Is.EqualTo(101));
        Assert.That(ids[^1], Is.EqualTo(102));
        Assert.That(tok.Decode(ids, skipSpecial: true), Is.EqualTo("hello , world !"));
    }

    [Test]
    public void UnknownWordBecomesUnk()
    {
        Tokenizer tok = MiniLm();
        // Find a letter that is neither a word-start nor a ## piece in the vocabulary file, independently of the loader.
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(TestAssets.Require("tokenizers/wordpiece/all-MiniLM-L6-v2.tokenizer.json")));
        var vocab = doc.RootElement.GetProperty("model").GetProperty("vocab").EnumerateObject().Select(p => p.Name).ToHashSet();
        string missing = Enumerable.Range(0x0100, 0x2000).Select(char.ConvertFromUtf32)
            .First(c => char.IsLetter(c[0]) && char.IsLower(c[0]) && c[0] > 0x24F
                && !vocab.Contains(c) && !vocab.Contains("##" + c));
        Assert.That(tok.Encode("ab" + missing + " ok", addSpecial: false), Is.EqualTo(new[] { 100, tok.Encode("ok", false)[0] }),
            $"'ab{missing}' cannot be segmented, so the whole word is [UNK]");
        Assert.That(tok.Encode(new string('a', 101), addSpecial: false), Is.EqualTo(new[] { 100 }), "words over 100 characters are [UNK]");
    }
}
