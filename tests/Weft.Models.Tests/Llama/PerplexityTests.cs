using System.Text;
using Weft.Models.Llama;
using Weft.Tests;

namespace Weft.Models.Tests.Llama;

/// <summary>Perplexity of stories260K over the start of War and Peace: finite, and bit-identical across runs and thread counts.</summary>
public class PerplexityTests
{
    /// <summary>The first <paramref name="bytes"/> bytes of the corpus, cut back to a whole UTF-8 character.</summary>
    internal static string CorpusPrefix(int bytes)
    {
        byte[] all = File.ReadAllBytes(TestAssets.Require("corpora/war-and-peace.txt"));
        int n = Math.Min(bytes, all.Length);
        while (n > 0 && n < all.Length && (all[n] & 0xC0) == 0x80)
        {
            n--; // do not split a multi-byte character
        }
        return new UTF8Encoding(false, true).GetString(all, 0, n);
    }

    private static PerplexityResult Run(LlamaModel model, int[] tokens, int threads)
    {
        using LlamaContext ctx = model.CreateContext(new ContextParams { ContextSize = 128, BatchSize = 128, Threads = threads, Backend = BackendChoice.Cpu });
        return Perplexity.Compute(ctx, tokens, 128);
    }

    [Test]
    public void FiniteAndIdenticalAcrossRunsAndThreadCounts()
    {
        using LlamaModel model = LlamaModel.Load(TestAssets.Require("models/stories260K.gguf"));
        int[] tokens = model.Tokenizer.Encode(CorpusPrefix(64 * 1024), addSpecial: true);
        PerplexityResult one = Run(model, tokens, 1);
        PerplexityResult two = Run(model, tokens, 2);

        Assert.That(one.Chunks, Is.EqualTo(tokens.Length / 128));
        Assert.That(one.ScoredTokens, Is.EqualTo(one.Chunks * (128 - 1 - 64)), "the second half of each chunk, less its last token, is scored");
        Assert.That(double.IsFinite(one.Ppl) && one.Ppl > 1, Is.True, $"PPL {one.Ppl}");
        // A uniform guess over the 512 tokens scores 512; a model trained on simple stories must do better even on Tolstoy.
        Assert.That(one.Ppl, Is.LessThan(512));
        Assert.That(double.IsFinite(one.StdErr) && one.StdErr > 0, Is.True, $"stderr {one.StdErr}");
        Assert.That(two.Ppl, Is.EqualTo(one.Ppl), "1 vs 2 threads");
        Assert.That(two.StdErr, Is.EqualTo(one.StdErr));
        Assert.That(two.ChunkPpl, Is.EqualTo(one.ChunkPpl));

        // Run to run (a new context on a shorter prefix of the same text): the chunks both runs score, all but the
        // last one (whose tokens may differ where the prefix was cut), give the same running PPL, bit for bit.
        int[] shortTokens = model.Tokenizer.Encode(CorpusPrefix(16 * 1024), addSpecial: true);
        PerplexityResult again = Run(model, shortTokens, 1);
        int common = again.Chunks - 1;
        Assert.That(common, Is.GreaterThan(10));
        Assert.That(again.ChunkPpl.Take(common), Is.EqualTo(one.ChunkPpl.Take(common)), "run to run");
    }
}
