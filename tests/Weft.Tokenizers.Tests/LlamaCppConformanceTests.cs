using Weft.Tests;

namespace Weft.Tokenizers.Tests;

/// <summary>Every .inp/.out pair of llama.cpp's tokenizer suite whose vocabulary is available must match exactly.</summary>
public sealed class LlamaCppConformanceTests
{
    private static readonly Dictionary<string, Tokenizer> s_cache = new();

    /// <summary>Vocabularies that ship with .inp/.out pairs (baichuan and gpt-neox GGUFs come without them).</summary>
    public static readonly string[] Vocabs =
    [
        "bert-bge", "deepseek-coder", "deepseek-llm", "falcon", "gpt-2", "llama-spm", "mpt", "phi-3", "refact", "starcoder",
    ];

    /// <summary>Every vocabulary GGUF in the suite, with or without test pairs.</summary>
    public static readonly string[] AllVocabs = [.. Vocabs, "baichuan", "gpt-neox"];

    internal static Tokenizer Get(string vocab)
    {
        lock (s_cache)
        {
            if (!s_cache.TryGetValue(vocab, out Tokenizer? t))
            {
                t = TokenizerLoader.Load(TestAssets.Require($"tokenizers/llamacpp/ggml-vocab-{vocab}.gguf"));
                s_cache[vocab] = t;
            }
            return t;
        }
    }

    [TestCaseSource(nameof(Vocabs))]
    public void GgufVocabularyMatchesSuite(string vocab)
    {
        Tokenizer tok = Get(vocab);
        string inp = TestAssets.Require($"tokenizers/llamacpp/ggml-vocab-{vocab}.gguf.inp");
        string outp = TestAssets.Require($"tokenizers/llamacpp/ggml-vocab-{vocab}.gguf.out");
        AssertSuite(tok, LlamaCppSuite.Read(inp, outp), vocab);
    }

    [Test]
    public void Llama3FilesMatchLlamaBpeSuite()
    {
        Tokenizer tok = Llama3();
        AssertSuite(tok, LlamaCppSuite.Read(TestAssets.Require("tokenizers/llamacpp/ggml-vocab-llama-bpe.gguf.inp"),
            TestAssets.Require("tokenizers/llamacpp/ggml-vocab-llama-bpe.gguf.out")), "llama-bpe");
    }

    internal static Tokenizer Llama3()
    {
        lock (s_cache)
        {
            if (!s_cache.TryGetValue("llama3", out Tokenizer? t))
            {
                t = TokenizerLoader.Load(TestAssets.Require("tokenizers/llama3-bpe/encoder.json"), new TokenizerLoadOptions
                {
                    PreTokenizer = "llama3",
                    SpecialTokens = new Dictionary<string, int> { ["<|begin_of_text|>"] = 128000, ["<|end_of_text|>"] = 128001 },
                    BosToken = "<|begin_of_text|>",
                });
                s_cache["llama3"] = t;
            }
            return t;
        }
    }

    private static void AssertSuite(Tokenizer tok, List<(string Input, int[] Expected)> cases, string vocab)
    {
        Assert.That(cases, Has.Count.EqualTo(46), "llama.cpp's suite has 46 inputs per vocabulary");
        var failures = new List<string>();
        foreach ((string input, int[] expected) in cases)
        {
            int[] got = tok.Encode(input, addSpecial: false, parseSpecial: false);
            if (!got.SequenceEqual(expected))
            {
                failures.Add($"'{input}'\n  expected {string.Join(' ', expected)}\n  got      {string.Join(' ', got)}");
            }
        }
        Assert.That(failures, Is.Empty, $"{vocab}: {failures.Count}/{cases.Count} cases differ:\n" + string.Join("\n", failures));
    }
}
