using Weft.Core;
using Weft.Core.Gguf;
using Weft.Models.Llama;
using Weft.Models.Quantization;
using Weft.Models.Synth;
using Weft.Tests;

namespace Weft.Vulkan.Tests;

/// <summary>
/// A synthetic Llama model (n_embd 256 so the K-quants apply, real 32000-token vocabulary) quantized to q4_0 and
/// q4_k_m, weights uploaded to the device, also with every device allocation capped small so weights are split across
/// buffers: the prompt's logits on Vulkan equal those of the same weights dequantized to F32 (the shaders keep
/// activations in F32), and the CPU's stay within the bound its Q8 activation quantization sets.
/// </summary>
/// <remarks>
/// Greedy ids of CPU and Vulkan are not compared on these quantized models: on random weights the two activation paths
/// (Q8 on the CPU, F32 in the shaders) flip near-tied argmaxes after a few tokens (seen at positions 2 and 6).
/// stories260K's greedy-id parity is checked in LlamaOnVulkanTests.
/// </remarks>
public sealed class SyntheticQuantizedOnVulkanTests
{
    private static string s_dir = "";
    private static string s_f32 = "";

    [OneTimeSetUp]
    public void MakeModel()
    {
        s_dir = Directory.CreateTempSubdirectory("weft-vk-synth").FullName;
        s_f32 = Path.Combine(s_dir, "synth-f32.gguf");
        using GgufFile vocab = GgufFile.Open(TestAssets.Require("tokenizers/llamacpp/ggml-vocab-llama-spm.gguf"));
        // A larger weight scale than the default makes the logits peaked, so greedy choices are not near-ties.
        var preset = new SynthPreset("vk-test", 256, 2, 4, 2, 512, ContextLength: 256);
        SyntheticLlama.Write(new SynthOptions { Preset = preset, Seed = 7, Scale = 0.5f }, vocab, s_f32);
    }

    [OneTimeTearDown]
    public void Cleanup()
    {
        try { Directory.Delete(s_dir, recursive: true); } catch (IOException) { }
    }

    [TestCase("q4_0", null)]
    [TestCase("q4_k_m", null)]
    [TestCase("q4_0", "4194304")]
    public void GreedyIdsEqualTheCpus(string type, string? maxAlloc)
    {
        VulkanTestDevice.DeviceOrSkip();
        string path = Path.Combine(s_dir, $"synth-{type}.gguf");
        if (!File.Exists(path))
        {
            ModelQuantizer.Run(s_f32, path, QuantizationTarget.Parse(type), new QuantizeOptions { Threads = 2 });
        }
        string? old = Environment.GetEnvironmentVariable("WEFT_VULKAN_MAX_ALLOC");
        try
        {
            Environment.SetEnvironmentVariable("WEFT_VULKAN_MAX_ALLOC", maxAlloc);
            // The same weights dequantized to F32: the exact product the quantized shaders compute (they keep
            // activations in F32), while the CPU quantizes activations to Q8 for its integer dot products.
            string deq = Path.Combine(s_dir, $"synth-{type}-dequantized.gguf");
            if (!File.Exists(deq))
            {
                ModelQuantizer.Run(path, deq, QuantizationTarget.Parse("f32"), new QuantizeOptions { Threads = 2, AllowRequantize = true });
            }
            float[] reference;
            using (LlamaModel f32 = LlamaModel.Load(deq))
            {
                reference = PromptLogits(f32, BackendChoice.Cpu, out _);
            }
            using LlamaModel model = LlamaModel.Load(path);
            float[] cpu = PromptLogits(model, BackendChoice.Cpu, out _);
            float[] gpu = PromptLogits(model, BackendChoice.Vulkan, out long dispatches);
            Assert.That(dispatches, Is.GreaterThan(0));
            double gpuErr = Nmse(gpu, reference), cpuErr = Nmse(cpu, reference);
            TestContext.Out.WriteLine($"{type}: Vulkan vs dequantized F32 NMSE {gpuErr:E2}; CPU (Q8 activations) vs dequantized F32 NMSE {cpuErr:E2}");
            Assert.That(gpuErr, Is.LessThan(1e-9));
            Assert.That(cpuErr, Is.LessThan(2e-3));
        }
        finally
        {
            Environment.SetEnvironmentVariable("WEFT_VULKAN_MAX_ALLOC", old);
        }
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

    private static float[] PromptLogits(LlamaModel model, BackendChoice backend, out long dispatches)
    {
        using LlamaContext ctx = model.CreateContext(new ContextParams { ContextSize = 64, Backend = backend, Threads = 2 });
        float[] logits = ctx.DecodeAll([1, 450, 4996, 17354, 1701]);
        dispatches = ctx.Backends[0] is VulkanBackend vb ? vb.TotalDispatchCount : 0;
        return logits;
    }
}
