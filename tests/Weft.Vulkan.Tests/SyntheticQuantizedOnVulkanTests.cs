using Weft.Core.Gguf;
using Weft.Models.Llama;
using Weft.Models.Quantization;
using Weft.Models.Synth;
using Weft.Tests;

namespace Weft.Vulkan.Tests;

/// <summary>
/// Synthetic Llama models (n_embd 256 so the K-quants apply, real 32000-token vocabulary, two seeds) quantized to
/// q4_0 and q4_k_m, 32 greedy steps after a short prompt (matrix × vector shaders) or a 12-token prompt batch (tiled
/// matrix × matrix shaders), also with every device allocation capped at 4 MiB so the output weight is split:
/// every Vulkan node equals the CPU's result on the same inputs up to float summation order, the single-submission
/// run gives the same bits as the node-by-node check, the logits stay within the bound that activation rounding
/// flips explain, and the greedy ids equal the CPU's.
/// </summary>
/// <remarks>
/// The CPU dots quantized weights with activations quantized to Q8_0 / Q8_K; Vulkan reproduces those activations bit
/// for bit with shaders/quantize_act.comp, so each matmul node is within float summation order of the CPU's (measured
/// NMSE at most ~3e-13; with <c>WEFT_VULKAN_F32_ACTIVATIONS=1</c> ~3e-5). The whole model is not: a summation-order
/// difference of one ulp in an activation that lies next to a Q8 rounding boundary moves its int8 value by one step
/// (about 1/127 of the block maximum), and that jump spreads through the following layers and the KV cache. The CPU
/// alone shows it: its legacy and tiled q4_0 matmul kernels (WEFT_CPU_LEGACY_MATMUL) differ only in summation order,
/// and the logits of the 12-token prompt step of the seed-7 q4_0 model then differ by NMSE 7.4e-5. Measured on
/// lavapipe, Vulkan against the CPU with the CPU's ids fed to both (teacher forcing): worst step NMSE 5.0e-4 to
/// 1.1e-2 per case, the top-two logit gap moved by at most 1.04 (logit RMS 8), the argmax differed at 4 of 256 steps,
/// all of them near-ties (CPU gap 0.04 to 0.20). Free-running greedy ids therefore equal the CPU's for all 32 tokens
/// only where no such near-tie is met: q4_k_m (both seeds, both prompts) and q4_0 seed 20251122 with the 12-token
/// prompt; q4_0 seed 7 first differs at token 4 (12-token prompt, CPU gap 0.04) and 17 (short prompt), q4_0 seed
/// 20251122 at token 28 (short prompt). Bit-identical results would need every op (matmul summation order, exp in
/// attention and SwiGLU, sin/cos in RoPE) to follow the CPU's exact float sequence.
/// </remarks>
public sealed class SyntheticQuantizedOnVulkanTests
{
    private const int Generated = 32;

    // Per-node check bound: measured worst 1.8e-10 (a FlashAttn decode node; matmuls ~3e-13), against ~3e-5 for a
    // matmul node with F32 activations.
    private const double MaxNodeNmse = 1e-9;

    // Largest NMSE of a teacher-forced step's logits, Vulkan vs CPU: measured worst 1.06e-2 (Q8 rounding flips, see
    // the remarks); a wrong op gives NMSE of order 1.
    private const double MaxStepNmse = 3e-2;

    // Largest move of the CPU's top-two logit gap measured over 256 teacher-forced steps is 1.04; a step whose CPU gap
    // exceeds this margin must have the same argmax on Vulkan.
    private const float ClearGap = 1.5f;

    private static readonly int[] s_shortPrompt = [1, 450, 4996, 17354, 1701];
    private static readonly int[] s_longPrompt = [1, 450, 4996, 17354, 1701, 975, 278, 17366, 11203, 29889, 450, 2];

    private static string s_dir = "";

    [OneTimeSetUp]
    public void MakeModels()
    {
        s_dir = Directory.CreateTempSubdirectory("weft-vk-synth").FullName;
    }

    [OneTimeTearDown]
    public void Cleanup()
    {
        try { Directory.Delete(s_dir, recursive: true); } catch (IOException) { }
    }

    // The F32 model of a seed, then the quantized one (made once per fixture run).
    private static string Model(string type, ulong seed)
    {
        string f32 = Path.Combine(s_dir, $"synth-{seed}-f32.gguf");
        if (!File.Exists(f32))
        {
            using GgufFile vocab = GgufFile.Open(TestAssets.Require("tokenizers/llamacpp/ggml-vocab-llama-spm.gguf"));
            // A larger weight scale than the default makes the logits peaked, so greedy choices are not near-ties.
            var preset = new SynthPreset("vk-test", 256, 2, 4, 2, 512, ContextLength: 256);
            SyntheticLlama.Write(new SynthOptions { Preset = preset, Seed = seed, Scale = 0.5f }, vocab, f32);
        }
        if (type == "f32")
        {
            return f32;
        }
        string path = Path.Combine(s_dir, $"synth-{seed}-{type}.gguf");
        if (!File.Exists(path))
        {
            ModelQuantizer.Run(f32, path, QuantizationTarget.Parse(type), new QuantizeOptions { Threads = 2 });
        }
        return path;
    }

    [TestCase("q4_0", 7UL, 5, null)]
    [TestCase("q4_k_m", 7UL, 5, null)]
    [TestCase("q4_0", 7UL, 12, null)]
    [TestCase("q4_k_m", 7UL, 12, null)]
    [TestCase("q4_0", 20251122UL, 12, null)]
    [TestCase("q4_k_m", 20251122UL, 5, null)]
    [TestCase("q4_0", 7UL, 12, "4194304")]
    [TestCase("q4_k_m", 20251122UL, 12, "4194304")]
    public void NodesMatchTheCpuAndLogitsStayWithinRoundingFlips(string type, ulong seed, int promptLength, string? maxAlloc)
    {
        VulkanTestDevice.DeviceOrSkip();
        int[] prompt = Prompt(promptLength);
        using LlamaModel model = LlamaModel.Load(Model(type, seed));
        Run cpu = CpuRun(model, type, seed, prompt);
        // The CPU's ids fed to Vulkan, once node by node (each node checked against the CPU on the same inputs), once
        // as whole-graph submissions.
        Run check = Greedy(model, BackendChoice.Vulkan, prompt, maxAlloc, f32Activations: false, forced: cpu.Ids, check: true);
        Run gpu = Greedy(model, BackendChoice.Vulkan, prompt, maxAlloc, f32Activations: false, forced: cpu.Ids);
        Assert.That(gpu.Dispatches, Is.GreaterThan(0), "nothing ran on Vulkan");
        Assert.That(check.CheckedNodes, Is.GreaterThan(30 * Generated), "the per-node check compared too few nodes");
        Assert.That(check.Divergence, Is.Null, "a Vulkan node differs from the CPU by more than float summation order");
        for (int i = 0; i < Generated; i++)
        {
            Assert.That(gpu.Logits[i], Is.EqualTo(check.Logits[i]), $"step {i}: one submission per graph differs from node-by-node submission");
        }
        double worst = 0;
        int clear = 0, tiesDiffering = 0;
        for (int i = 0; i < Generated; i++)
        {
            worst = Math.Max(worst, Nmse(gpu.Logits[i], cpu.Logits[i]));
            bool same = ArgMax(gpu.Logits[i]) == cpu.Ids[i];
            if (Gap(cpu.Logits[i]) >= ClearGap)
            {
                clear++;
                Assert.That(same, $"step {i}: CPU top-two gap {Gap(cpu.Logits[i])}, yet Vulkan picks another token");
            }
            else if (!same)
            {
                tiesDiffering++;
            }
        }
        TestContext.Out.WriteLine($"{type} seed {seed}, {promptLength}-token prompt, max alloc {maxAlloc ?? "default"}: {check.CheckedNodes} nodes checked; " +
            $"teacher-forced worst step NMSE vs CPU {worst:E2}; {clear} steps with a clear CPU choice (all equal), {tiesDiffering} near-ties pick another token");
        Assert.That(worst, Is.LessThanOrEqualTo(MaxStepNmse));
    }

    [TestCase("q4_k_m", 7UL, 5, null)]
    [TestCase("q4_k_m", 7UL, 12, null)]
    [TestCase("q4_k_m", 20251122UL, 5, null)]
    [TestCase("q4_k_m", 20251122UL, 12, "4194304")]
    [TestCase("q4_0", 20251122UL, 12, null)]
    [TestCase("q4_0", 20251122UL, 12, "4194304")]
    public void GreedyIdsEqualTheCpus(string type, ulong seed, int promptLength, string? maxAlloc)
    {
        VulkanTestDevice.DeviceOrSkip();
        int[] prompt = Prompt(promptLength);
        using LlamaModel model = LlamaModel.Load(Model(type, seed));
        Run cpu = CpuRun(model, type, seed, prompt);
        Run gpu = Greedy(model, BackendChoice.Vulkan, prompt, maxAlloc, f32Activations: false);
        int agree = 0;
        while (agree < Generated && gpu.Ids[agree] == cpu.Ids[agree])
        {
            agree++;
        }
        TestContext.Out.WriteLine($"{type} seed {seed}, {promptLength}-token prompt, max alloc {maxAlloc ?? "default"}: {agree}/{Generated} ids agree; " +
            $"ids {string.Join(",", gpu.Ids.Take(12))}...");
        Assert.That(gpu.Ids, Is.EqualTo(cpu.Ids), agree < Generated
            ? $"first different id at step {agree}, where the CPU's top-two gap is {Gap(cpu.Logits[agree])} (see the remarks on rounding flips)"
            : null);
    }

    [Test]
    public void F32ActivationsSwitchComputesTheDequantizedProduct()
    {
        VulkanTestDevice.DeviceOrSkip();
        // The q4_0 weights dequantized to F32, run on the CPU: the product the shaders compute with F32 activations.
        string deq = Path.Combine(s_dir, "synth-7-q4_0-dequantized.gguf");
        if (!File.Exists(deq))
        {
            ModelQuantizer.Run(Model("q4_0", 7), deq, QuantizationTarget.Parse("f32"), new QuantizeOptions { Threads = 2, AllowRequantize = true });
        }
        float[] reference;
        using (LlamaModel f32 = LlamaModel.Load(deq))
        {
            reference = Greedy(f32, BackendChoice.Cpu, s_longPrompt, null, false, steps: 1).Logits[0];
        }
        using LlamaModel model = LlamaModel.Load(Model("q4_0", 7));
        Run f32Act = Greedy(model, BackendChoice.Vulkan, s_longPrompt, null, true, steps: 1, check: true);
        Run roundTrip = Greedy(model, BackendChoice.Vulkan, s_longPrompt, null, false, steps: 1, check: true);
        double toDeq = Nmse(f32Act.Logits[0], reference);
        TestContext.Out.WriteLine($"F32 activations: NMSE {toDeq:E2} vs dequantized F32 model; first node off the CPU: {f32Act.Divergence}; " +
            $"round trip: {roundTrip.Divergence ?? "none"} of {roundTrip.CheckedNodes} nodes");
        Assert.That(toDeq, Is.LessThan(1e-9));
        // Without the round trip the first quantized matmul is already off by the CPU's activation rounding (~3e-5).
        Assert.That(f32Act.Divergence, Does.StartWith("Qcur-0 (MatMul"));
        Assert.That(roundTrip.Divergence, Is.Null);
        Assert.That(roundTrip.CheckedNodes, Is.GreaterThan(30));
    }

    private static int[] Prompt(int length)
    {
        int[] prompt = length == s_shortPrompt.Length ? s_shortPrompt : s_longPrompt;
        Assert.That(prompt, Has.Length.EqualTo(length));
        return prompt;
    }

    private sealed record Run(List<int> Ids, List<float[]> Logits, long Dispatches, string? Divergence, int CheckedNodes);

    private static readonly Dictionary<(string, ulong, int), Run> s_cpuRuns = new();

    // The CPU's greedy run of a case, computed once for both tests (it does not depend on the Vulkan allocation cap).
    private static Run CpuRun(LlamaModel model, string type, ulong seed, int[] prompt)
    {
        lock (s_cpuRuns)
        {
            if (!s_cpuRuns.TryGetValue((type, seed, prompt.Length), out Run? run))
            {
                run = Greedy(model, BackendChoice.Cpu, prompt, null, f32Activations: false);
                s_cpuRuns[(type, seed, prompt.Length)] = run;
            }
            return run;
        }
    }

    // Greedy decoding (or the given ids fed back, teacher forcing); Ids are the argmax of each step's logits. With
    // check, every Vulkan node is compared with the CPU (bound MaxNodeNmse).
    private static Run Greedy(LlamaModel model, BackendChoice backend, int[] prompt, string? maxAlloc, bool f32Activations,
        int steps = Generated, IReadOnlyList<int>? forced = null, bool check = false)
    {
        string? oldAlloc = Environment.GetEnvironmentVariable("WEFT_VULKAN_MAX_ALLOC");
        string? oldAct = Environment.GetEnvironmentVariable("WEFT_VULKAN_F32_ACTIVATIONS");
        try
        {
            Environment.SetEnvironmentVariable("WEFT_VULKAN_MAX_ALLOC", maxAlloc);
            Environment.SetEnvironmentVariable("WEFT_VULKAN_F32_ACTIVATIONS", f32Activations ? "1" : null);
            using LlamaContext ctx = model.CreateContext(new ContextParams { ContextSize = 64, Backend = backend, Threads = 2 });
            var vb = ctx.Backends[0] as VulkanBackend;
            if (check)
            {
                Assert.That(vb, Is.Not.Null, "the node check needs the Vulkan backend");
                vb!.ForceCheck = true;
                vb.CheckMaxNmse = MaxNodeNmse;
            }
            var ids = new List<int>();
            var logits = new List<float[]>();
            float[] last = ctx.Decode(prompt).ToArray();
            for (int i = 0; i < steps; i++)
            {
                logits.Add(last);
                int id = ArgMax(last);
                ids.Add(id);
                if (i + 1 < steps)
                {
                    last = ctx.Decode([forced?[i] ?? id]).ToArray();
                }
            }
            return new Run(ids, logits, vb?.TotalDispatchCount ?? 0, vb?.FirstDivergence, vb?.CheckedNodes ?? 0);
        }
        finally
        {
            Environment.SetEnvironmentVariable("WEFT_VULKAN_MAX_ALLOC", oldAlloc);
            Environment.SetEnvironmentVariable("WEFT_VULKAN_F32_ACTIVATIONS", oldAct);
        }
    }

    // Top-two logit gap.
    private static float Gap(float[] v)
    {
        int best = ArgMax(v);
        float second = float.NegativeInfinity;
        for (int i = 0; i < v.Length; i++)
        {
            if (i != best && v[i] > second)
            {
                second = v[i];
            }
        }
        return v[best] - second;
    }

    private static int ArgMax(float[] v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++)
        {
            if (v[i] > v[best])
            {
                best = i;
            }
        }
        return best;
    }

    private static double Nmse(float[] a, float[] reference)
    {
        double err = 0, norm = 0;
        for (int i = 0; i < a.Length; i++)
        {
            err += (a[i] - reference[i]) * (double)(a[i] - reference[i]);
            norm += reference[i] * (double)reference[i];
        }
        return err / norm;
    }
}
