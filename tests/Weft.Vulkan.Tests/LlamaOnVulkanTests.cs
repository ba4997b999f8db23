using Weft.Core;
using Weft.Models;
using Weft.Models.Llama;
using Weft.Models.Sampling;
using Weft.Tests;

namespace Weft.Vulkan.Tests;

/// <summary>stories260K through Scheduler(Vulkan, CPU): the same greedy ids as the CPU alone.</summary>
public sealed class LlamaOnVulkanTests
{
    // BOS and the start of "Once upon a time..." (stories260K ids): 10 prompt tokens, so the prompt batch takes the
    // tiled matrix x matrix path and generation the matrix x vector path.
    private static readonly int[] s_prompt = [1, 403, 407, 261, 378, 432, 383, 286, 261, 376];

    // The F32 run also re-checks every Vulkan node against the CPU (what WEFT_VULKAN_CHECK=1 does).
    [TestCase(DType.F32, true)]
    [TestCase(DType.F16, false)]
    public void GreedyIdsEqualTheCpus(DType kv, bool check)
    {
        VulkanTestDevice.DeviceOrSkip();
        using LlamaModel model = LlamaModel.Load(TestAssets.Require("models/stories260K.gguf"));
        List<int> cpu = Greedy(model, BackendChoice.Cpu, kv, false, out _, out _, out _);
        List<int> gpu = Greedy(model, BackendChoice.Vulkan, kv, check, out string note, out long dispatches, out string? divergence);
        TestContext.Out.WriteLine($"{note}; {dispatches} Vulkan dispatches; ids: {string.Join(",", gpu.Take(16))}...");
        Assert.That(note, Does.StartWith("backend: Vulkan"));
        Assert.That(dispatches, Is.GreaterThan(0), "nothing ran on Vulkan");
        Assert.That(divergence, Is.Null);
        Assert.That(gpu, Is.EqualTo(cpu));
    }

    private static List<int> Greedy(LlamaModel model, BackendChoice backend, DType kv, bool check, out string note, out long dispatches, out string? divergence)
    {
        using LlamaContext ctx = model.CreateContext(new ContextParams { ContextSize = 128, Backend = backend, KvType = kv, Threads = 2 });
        note = ctx.BackendNote;
        if (ctx.Backends[0] is VulkanBackend v)
        {
            v.ForceCheck = check;
        }
        var gen = new Generator(ctx);
        var ids = new List<int>();
        var p = new GenerationParams { MaxTokens = 48, Sampling = SamplingParams.Greedy, StopAtEos = false };
        foreach (GeneratedToken t in gen.GenerateAsync(s_prompt, p).ToBlockingEnumerable())
        {
            if (t.Id >= 0)
            {
                ids.Add(t.Id);
            }
        }
        dispatches = ctx.Backends[0] is VulkanBackend vb ? vb.TotalDispatchCount : 0;
        divergence = (ctx.Backends[0] as VulkanBackend)?.FirstDivergence;
        if (check)
        {
            Assert.That(((VulkanBackend)ctx.Backends[0]).CheckedNodes, Is.GreaterThan(0), "the CPU check compared no node");
        }
        return ids;
    }
}
