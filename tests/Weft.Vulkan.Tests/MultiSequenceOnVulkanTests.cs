using Weft.Core;
using Weft.Models.Llama;
using Weft.Tests;

namespace Weft.Vulkan.Tests;

/// <summary>
/// Several sequences in one context on the Vulkan backend (the KV-cell mask goes through the flash-attention shader):
/// three stories260K prompts decoded together in interleaved batches, then greedily one token per sequence per step,
/// give each sequence the ids and logits (1e-4 with F32 KV) of the same prompt decoded alone on the CPU.
/// </summary>
public sealed class MultiSequenceOnVulkanTests
{
    private static readonly string[] s_texts = ["Once upon a time", "The little dog ran to the park", "Lily"];

    private static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++)
        {
            if (x[i] > x[best]) best = i;
        }
        return best;
    }

    // F16 KV: a last-bit difference in K or V before the cache write (other summation order on the device) can flip an
    // F16 rounding and move the logits by up to ~1e-3 (as between the CPU's own matrix-matrix and matrix-vector paths).
    [TestCase(DType.F32, 1e-4f)]
    [TestCase(DType.F16, 2e-3f)]
    public void InterleavedSequencesOnVulkanMatchTheCpuAlone(DType kv, float tolerance)
    {
        VulkanTestDevice.DeviceOrSkip();
        using LlamaModel model = LlamaModel.Load(TestAssets.Require("models/stories260K.gguf"));
        int[][] prompts = s_texts.Select(t => model.Tokenizer.Encode(t, addSpecial: true)).ToArray();
        const int Steps = 16;
        var expected = new List<(List<int> Ids, List<float[]> Logits)>();
        foreach (int[] p in prompts)
        {
            using LlamaContext alone = model.CreateContext(new ContextParams { ContextSize = 128, Threads = 1, Backend = BackendChoice.Cpu, KvType = kv });
            var ids = new List<int>();
            var logits = new List<float[]>();
            float[] l = alone.Decode(p).ToArray();
            for (int i = 0; i < Steps; i++)
            {
                logits.Add(l);
                ids.Add(ArgMax(l));
                l = alone.Decode([ids[^1]]).ToArray();
            }
            expected.Add((ids, logits));
        }

        using LlamaContext ctx = model.CreateContext(new ContextParams { ContextSize = 128, Threads = 1, Backend = BackendChoice.Vulkan, KvType = kv, MaxSequences = prompts.Length });
        Assert.That(ctx.Backends[0], Is.InstanceOf<VulkanBackend>());
        var batch = new LlamaBatch();
        int[] rows = new int[prompts.Length];
        int[] next = prompts.Select(p => p.Length).ToArray();
        for (int i = 0; i < prompts.Max(p => p.Length); i++)
        {
            for (int s = 0; s < prompts.Length; s++)
            {
                if (i < prompts[s].Length)
                {
                    bool last = i == prompts[s].Length - 1;
                    if (last) rows[s] = batch.Count;
                    batch.Add(prompts[s][i], i, s, logits: last);
                }
            }
        }
        ctx.Decode(batch);
        for (int step = 0; step < Steps; step++)
        {
            batch.Clear();
            for (int s = 0; s < prompts.Length; s++)
            {
                ReadOnlySpan<float> l = ctx.BatchLogits(rows[s]);
                float[] want = expected[s].Logits[step];
                float diff = 0;
                for (int i = 0; i < l.Length; i++)
                {
                    diff = Math.Max(diff, Math.Abs(l[i] - want[i]));
                }
                Assert.That(diff, Is.LessThanOrEqualTo(tolerance), $"logits of sequence {s} at step {step}");
                int id = ArgMax(l);
                Assert.That(id, Is.EqualTo(expected[s].Ids[step]), $"greedy id of sequence {s} at step {step}");
                rows[s] = batch.Count;
                batch.Add(id, next[s]++, s, logits: true);
            }
            ctx.Decode(batch);
        }
        Assert.That(((VulkanBackend)ctx.Backends[0]).TotalDispatchCount, Is.GreaterThan(0), "nothing ran on Vulkan");
    }
}
