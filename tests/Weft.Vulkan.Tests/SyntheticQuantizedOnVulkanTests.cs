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
/// buffers: the prompt's logits on Vulkan match the CPU's within the activation-quantization bound (the CPU quantizes
/// activations to Q8 for quantized dots, the shaders use F32 activations).
/// </summary>
/// <remarks>
/// Greedy ids over 32 tokens are not asserted here: on random weights the two activation paths flip near-tied argmaxes
/// after a few tokens (seen at positions 2 and 6); stories260K's greedy-id parity is checked in LlamaOnVulkanTests.
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
            using LlamaModel model = LlamaModel.Load(path);
            float[] cpu = PromptLogits(model, BackendChoice.Cpu, out _);
            float[] gpu = PromptLogits(model, BackendChoice.Vulkan, out long dispatches);
            Assert.That(dispatches, Is.GreaterThan(0));
            double err = 0, norm = 0;
            for (int i = 0; i < cpu.Length; i++)
            {
                err += (cpu[i] - gpu[i]) * (double)(cpu[i] - gpu[i]);
                norm += cpu[i] * (double)cpu[i];
            }
            TestContext.Out.WriteLine($"{type}: NMSE {err / norm:E2} over {cpu.Length} logits");
            Assert.That(err / norm, Is.LessThan(1e-3));
        }
        finally
        {
            Environment.SetEnvironmentVariable("WEFT_VULKAN_MAX_ALLOC", old);
        }
    }

    private static float[] PromptLogits(LlamaModel model, BackendChoice backend, out long dispatches)
    {
        using LlamaContext ctx = model.CreateContext(new ContextParams { ContextSize = 64, Backend = backend, Threads = 2 });
        float[] logits = ctx.DecodeAll([1, 450, 4996, 17354, 1701]);
        dispatches = ctx.Backends[0] is VulkanBackend vb ? vb.TotalDispatchCount : 0;
        return logits;
    }
}
