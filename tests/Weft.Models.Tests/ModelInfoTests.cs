using Weft.Core.Gguf;
using Weft.Models;
using Weft.Tests;

namespace Weft.Models.Tests;

public class ModelInfoTests
{
    [Test]
    public void Stories260KMatchesTheManifest()
    {
        // Facts from shared/assets/MANIFEST.md (checked there with an independent reader).
        using GgufFile f = GgufFile.Open(TestAssets.Require("models/stories260K.gguf"));
        ModelInfo m = ModelInfo.FromGguf(f);
        Assert.Multiple(() =>
        {
            Assert.That(m.Architecture, Is.EqualTo("llama"));
            Assert.That(m.ContextLength, Is.EqualTo(2048));
            Assert.That(m.BlockCount, Is.EqualTo(5));
            Assert.That(m.EmbeddingLength, Is.EqualTo(64));
            Assert.That(m.FeedForwardLength, Is.EqualTo(172));
            Assert.That(m.HeadCount, Is.EqualTo(8));
            Assert.That(m.HeadCountKv, Is.EqualTo(4));
            Assert.That(m.HeadDim, Is.EqualTo(8));
            Assert.That(m.RopeDimensionCount, Is.EqualTo(8));
            Assert.That(m.RopeFreqBase, Is.EqualTo(10000f), "absent in the file: llama.cpp's default");
            Assert.That(m.RmsNormEpsilon, Is.EqualTo(1e-5f));
            Assert.That(m.VocabSize, Is.EqualTo(512));
            Assert.That(m.FileType, Is.Null);
            Assert.That(m.Tokenizer!.Model, Is.EqualTo("llama"));
            Assert.That(m.Tokenizer.TokenCount, Is.EqualTo(512));
            Assert.That(m.Tokenizer.BosTokenId, Is.EqualTo(1));
            Assert.That(m.Tokenizer.EosTokenId, Is.EqualTo(2));
            Assert.That(m.Tokenizer.UnknownTokenId, Is.EqualTo(0));
            Assert.That(m.Tokenizer.MergesCount, Is.Zero);
        });
    }

    // Values dumped from the vocab files' metadata with an independent Python reader (struct.unpack).
    [TestCase("ggml-vocab-gpt-2.gguf", "gpt2", 12, 768, 12, 12, 3072, 1024, 50257, "gpt2", 50256L, 50256L)]
    [TestCase("ggml-vocab-falcon.gguf", "falcon", 32, 4544, 71, 1, 18176, 2048, 65024, "gpt2", 11L, 11L)]
    [TestCase("ggml-vocab-llama-spm.gguf", "llama", 32, 4096, 32, 32, 11008, 4096, 32000, "llama", 1L, 2L)]
    [TestCase("ggml-vocab-starcoder.gguf", "starcoder2", 30, 3072, 24, 2, 12288, 16384, 49152, "gpt2", 0L, 0L)]
    public void VocabFilesCarryTheirModelsHyperParameters(string file, string arch, int layers, int embd, int heads, int kvHeads,
        int ff, int ctx, int vocab, string tokModel, long bos, long eos)
    {
        using GgufFile f = GgufFile.Open(TestAssets.Require("tokenizers/llamacpp/" + file));
        ModelInfo m = ModelInfo.FromGguf(f);
        Assert.That((m.Architecture, m.BlockCount, m.EmbeddingLength, m.HeadCount, m.HeadCountKv, m.FeedForwardLength, m.ContextLength),
            Is.EqualTo((arch, layers, embd, heads, kvHeads, ff, (long)ctx)));
        Assert.That(m.VocabSize, Is.EqualTo(vocab));
        Assert.That((m.Tokenizer!.Model, m.Tokenizer.BosTokenId, m.Tokenizer.EosTokenId), Is.EqualTo((tokModel, (long?)bos, (long?)eos)));
        if (tokModel == "gpt2")
        {
            Assert.That(m.Tokenizer.MergesCount, Is.EqualTo(f.GetStringArray("tokenizer.ggml.merges").Count).And.GreaterThan(0));
        }
    }

    [Test]
    public void DeepseekCoderRopeBase()
    {
        using GgufFile f = GgufFile.Open(TestAssets.Require("tokenizers/llamacpp/ggml-vocab-deepseek-coder.gguf"));
        Assert.That(ModelInfo.FromGguf(f).RopeFreqBase, Is.EqualTo(100000f));
    }

    [Test]
    public void MissingRequiredKeyNamesIt()
    {
        var w = new GgufWriter().Set("general.architecture", GgufValue.Of("llama")).Set("llama.embedding_length", GgufValue.Of(64u));
        using var ms = new MemoryStream();
        w.WriteTo(ms);
        using GgufFile f = GgufFile.Parse(ms.ToArray(), "partial.gguf");
        var ex = Assert.Throws<GgufFormatException>(() => ModelInfo.FromGguf(f))!;
        Assert.That(ex.Message, Does.Contain("partial.gguf").And.Contain("llama.attention.head_count").And.Contain("missing"));
        Assert.That(ModelInfo.TokenizerSummary.FromGguf(f), Is.Null);
    }

    [Test]
    public void InconsistentHeadsAreRejected()
    {
        var w = new GgufWriter().Set("general.architecture", GgufValue.Of("llama"))
            .Set("llama.embedding_length", GgufValue.Of(64u)).Set("llama.block_count", GgufValue.Of(1u))
            .Set("llama.attention.head_count", GgufValue.Of(8u)).Set("llama.attention.head_count_kv", GgufValue.Of(3u));
        using var ms = new MemoryStream();
        w.WriteTo(ms);
        using GgufFile f = GgufFile.Parse(ms.ToArray(), "heads.gguf");
        var ex = Assert.Throws<GgufFormatException>(() => ModelInfo.FromGguf(f))!;
        Assert.That(ex.Message, Does.Contain("head_count_kv").And.Contain("heads.gguf"));
    }

    [TestCase(0, "ALL_F32")]
    [TestCase(1, "MOSTLY_F16")]
    [TestCase(7, "Q8_0")]
    [TestCase(15, "Q4_K_M")]
    [TestCase(18, "Q6_K")]
    [TestCase(32, "BF16")]
    [TestCase(999, "unknown (999)")]
    public void FileTypeNames(int ft, string name) => Assert.That(ModelInfo.FileTypeToName(ft), Is.EqualTo(name));
}
