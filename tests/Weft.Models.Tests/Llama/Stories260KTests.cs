using System.Text.Json;
using Weft.Models.Llama;
using Weft.Models.Sampling;
using Weft.Tests;

namespace Weft.Models.Tests.Llama;

/// <summary>
/// Parity with the reference greedy runs of stories260K (an independent float32 port of llama2.c's run.c):
/// the same ids and, for the first positions, the same logits within 1e-4.
/// </summary>
public class Stories260KTests
{
    private sealed record Case(string Prompt, int[] PromptIds, int Steps, int[] Sequence, float[][] Logits);

    private static List<Case> LoadCases()
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(TestAssets.Require("reference/stories260K-greedy.json")));
        var cases = new List<Case>();
        foreach (JsonElement c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            cases.Add(new Case(
                c.GetProperty("prompt").GetString()!,
                c.GetProperty("prompt_ids_with_bos").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                c.GetProperty("steps").GetInt32(),
                c.GetProperty("greedy_sequence_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                c.GetProperty("logits_first_positions").EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetSingle()).ToArray()).ToArray()));
        }
        return cases;
    }

    // "gguf": the default load mode (read into memory, for a file this small); "gguf-map": memory-mapped.
    private static LlamaModel Open(string format) => format.StartsWith("gguf", StringComparison.Ordinal)
        ? LlamaModel.Load(TestAssets.Require("models/stories260K.gguf"), load: format == "gguf-map" ? Core.Gguf.GgufLoadMode.Map : null)
        : LlamaModel.Load(TestAssets.Require("models/stories260K.bin"), TestAssets.Require("models/tok512.bin"));

    [TestCase("gguf")]
    [TestCase("bin")]
    public void PromptTokenizationMatchesReference(string format)
    {
        using LlamaModel model = Open(format);
        foreach (Case c in LoadCases())
        {
            Assert.That(model.Tokenizer.Encode(c.Prompt, addSpecial: true), Is.EqualTo(c.PromptIds), $"prompt '{c.Prompt}'");
        }
    }

    [TestCase("gguf", 1)]
    [TestCase("gguf", 2)]
    [TestCase("gguf-map", 2)]
    [TestCase("bin", 2)]
    public void GreedyIdsAndFirstLogitsMatchReference(string format, int threads)
    {
        using LlamaModel model = Open(format);
        foreach (Case c in LoadCases())
        {
            using LlamaContext ctx = model.CreateContext(new ContextParams { ContextSize = 512, Threads = threads, Backend = BackendChoice.Cpu, KvType = Core.DType.F32 });
            var ids = new List<int>(c.PromptIds);
            // Feed the reference sequence position by position (as run.c does, prompt included) and compare logits.
            for (int pos = 0; pos < c.Logits.Length; pos++)
            {
                ReadOnlySpan<float> logits = ctx.Decode([c.Sequence[pos]]);
                float maxDiff = 0f;
                for (int i = 0; i < logits.Length; i++)
                {
                    maxDiff = Math.Max(maxDiff, Math.Abs(logits[i] - c.Logits[pos][i]));
                }
                Assert.That(maxDiff, Is.LessThanOrEqualTo(1e-4f), $"logits at position {pos} of '{c.Prompt}'");
            }

            // Greedy generation from the prompt must reproduce the reference sequence.
            var gen = new Generator(ctx);
            var got = new List<int>(c.PromptIds);
            var p = new GenerationParams { MaxTokens = c.Sequence.Length - c.PromptIds.Length, Sampling = SamplingParams.Greedy, StopAtEos = false };
            foreach (GeneratedToken t in gen.GenerateAsync(c.PromptIds, p).ToBlockingEnumerable())
            {
                if (t.Id >= 0)
                {
                    got.Add(t.Id);
                }
            }
            Assert.That(got, Is.EqualTo(c.Sequence), $"greedy ids for '{c.Prompt}'");
        }
    }

    [Test]
    // F32 KV: with an F16 cache, last-bit differences between the matrix-matrix and matrix-vector paths can flip an F16
    // rounding and move logits by ~1e-3; the F32 cache checks that both paths compute the same thing.
    public void BatchedPromptGivesTheSameLogitsAsTokenByToken()
    {
        using LlamaModel model = Open("gguf");
        int[] seq = LoadCases()[0].Sequence[..40];
        using LlamaContext a = model.CreateContext(new ContextParams { ContextSize = 128, Backend = BackendChoice.Cpu, BatchSize = 16, KvType = Core.DType.F32 });
        float[] all = a.DecodeAll(seq);
        using LlamaContext b = model.CreateContext(new ContextParams { ContextSize = 128, Backend = BackendChoice.Cpu, KvType = Core.DType.F32 });
        int nv = model.HParams.NVocab;
        for (int i = 0; i < seq.Length; i++)
        {
            ReadOnlySpan<float> l = b.Decode([seq[i]]);
            for (int j = 0; j < nv; j++)
            {
                Assert.That(all[i * nv + j], Is.EqualTo(l[j]).Within(1e-4f), $"token {i}, logit {j}");
            }
        }
    }

    [Test]
    public void PromptLongerThanContextIsAClearError()
    {
        using LlamaModel model = Open("gguf");
        using LlamaContext ctx = model.CreateContext(new ContextParams { ContextSize = 8, Backend = BackendChoice.Cpu });
        var ex = Assert.Throws<ContextFullException>(() => ctx.Decode(Enumerable.Repeat(5, 9).ToArray()));
        Assert.That(ex!.Message, Does.Contain("holds 8 tokens but 9"));
        Assert.Throws<ArgumentException>(() => ctx.Decode([512]));
    }
}
