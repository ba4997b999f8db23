using System.Text.Json;
using Weft.Tests;

namespace Weft.Tokenizers.Tests;

public sealed class LoaderTests
{
    [Test]
    public void HuggingFaceByteLevelBpeJsonMatchesGpt2Vectors()
    {
        // Write GPT-2 as a tokenizer.json (vocab + merges + ByteLevel pre-tokenizer) from vocab.bpe, then check the
        // tokenizer.json path reproduces tiktoken's GPT-2 conformance vector.
        string merges = TestAssets.Require("tokenizers/tiktoken/vocab.bpe");
        BpeTokenizer gpt2 = TokenizerLoader.FromGpt2Merges(merges);
        var vocab = new Dictionary<string, int>();
        for (int id = 0; id < gpt2.VocabSize; id++)
        {
            if (gpt2.GetTokenType(id) == TokenType.Normal)
            {
                vocab[gpt2.TokenText(id)] = id;
            }
        }
        string[] mergeLines = File.ReadAllLines(merges).Where(l => l.Length > 0 && !l.StartsWith("#version", StringComparison.Ordinal)).ToArray();
        var json = new
        {
            version = "1.0",
            added_tokens = new[]
            {
                new { id = 50256, content = "<|endoftext|>", special = true },
                new { id = 50257, content = "weftword", special = false },
            },
            pre_tokenizer = new { type = "ByteLevel", add_prefix_space = false, use_regex = true },
            model = new { type = "BPE", vocab, merges = mergeLines },
        };
        string path = Path.Combine(Path.GetTempPath(), $"weft-gpt2-{Environment.ProcessId}.tokenizer.json");
        File.WriteAllText(path, JsonSerializer.Serialize(json));
        try
        {
            Tokenizer tok = TokenizerLoader.Load(path);
            int[] expected = JsonSerializer.Deserialize<int[]>(File.ReadAllText(TestAssets.Require("tokenizers/tiktoken-conformance/tokens_gpt2.json")))!;
            Assert.That(tok.Encode(TiktokenConformanceTests.Input(), addSpecial: false), Is.EqualTo(expected));
            Assert.That(tok.Encode("<|endoftext|>", addSpecial: false, parseSpecial: true), Is.EqualTo(new[] { 50256 }));
            Assert.That(tok.Encode("<|endoftext|>", addSpecial: false, parseSpecial: false), Does.Not.Contain(50256));
            // A non-special added token is split out even without special parsing.
            Assert.That(tok.Encode("xweftwordy", addSpecial: false), Is.EqualTo(new[] { tok.Encode("x", false)[0], 50257, tok.Encode("y", false)[0] }));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void GgufMetadataDrivesBosAndSpacePrefix()
    {
        Tokenizer spm = LlamaCppConformanceTests.Get("llama-spm");
        Assert.That(spm, Is.InstanceOf<SentencePieceTokenizer>());
        Assert.That((spm.BosId, spm.EosId, spm.AddBos, spm.AddEos), Is.EqualTo((1, 2, true, false)));
        int[] plain = spm.Encode("Hello world", addSpecial: false);
        Assert.That(spm.Encode("Hello world"), Is.EqualTo(new[] { 1 }.Concat(plain)));
        Assert.That(spm.Decode(spm.Encode("Hello world"), skipSpecial: true), Is.EqualTo("Hello world"));
        // A fragment after a special token gets the space prefix again (llama.cpp's is_prev_special).
        int[] withEos = spm.Encode("a</s>b", addSpecial: false, parseSpecial: true);
        Assert.That(withEos, Is.EqualTo(spm.Encode("a", false).Append(2).Concat(spm.Encode("b", false))));

        Tokenizer bert = LlamaCppConformanceTests.Get("bert-bge");
        Assert.That(bert.Encode("hello"), Is.EqualTo(new[] { 101 }.Concat(bert.Encode("hello", false)).Append(102)));
    }

    [Test]
    public void ConcurrentEncodingGivesTheSameIds()
    {
        Tokenizer tok = TiktokenConformanceTests.Get("o200k_base.tiktoken");
        string text = TiktokenConformanceTests.Input();
        int[] reference = tok.Encode(text, addSpecial: false);
        int[][] results = new int[4][];
        Parallel.For(0, results.Length, i => results[i] = tok.Encode(text, addSpecial: false));
        Assert.That(results, Has.All.EqualTo(reference));
    }
}
