using Weft.Core;
using Weft.Models.Quantization;

namespace Weft.Models.Tests.Quantization;

public class TensorTypePlannerTests
{
    // A Llama-7B-like layout: 32 layers, n_embd 4096, n_ff 11008 (11008 = 43 * 256, so no fallbacks).
    private static List<PlannerTensor> Llama32()
    {
        var t = new List<PlannerTensor>
        {
            new("token_embd.weight", DType.F16, [4096, 32000]),
            new("output_norm.weight", DType.F32, [4096]),
            new("output.weight", DType.F16, [4096, 32000]),
        };
        for (int i = 31; i >= 0; i--)   // reversed on purpose: the planner orders by layer like llama.cpp
        {
            t.Add(new($"blk.{i}.attn_norm.weight", DType.F32, [4096]));
            t.Add(new($"blk.{i}.attn_q.weight", DType.F16, [4096, 4096]));
            t.Add(new($"blk.{i}.attn_k.weight", DType.F16, [4096, 4096]));
            t.Add(new($"blk.{i}.attn_v.weight", DType.F16, [4096, 4096]));
            t.Add(new($"blk.{i}.attn_output.weight", DType.F16, [4096, 4096]));
            t.Add(new($"blk.{i}.ffn_norm.weight", DType.F32, [4096]));
            t.Add(new($"blk.{i}.ffn_gate.weight", DType.F16, [4096, 11008]));
            t.Add(new($"blk.{i}.ffn_up.weight", DType.F16, [4096, 11008]));
            t.Add(new($"blk.{i}.ffn_down.weight", DType.F16, [11008, 4096]));
        }
        return t;
    }

    // use_more_bits(i, 32): i < 4, i >= 28, or (i - 4) % 3 == 2 -- worked out by hand from llama.cpp's lambda.
    private static readonly int[] s_moreBits32 = [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31];

    private static Dictionary<string, DType> PlanOf(string target) =>
        TensorTypePlanner.Plan(Llama32(), QuantizationTarget.Parse(target), "llama", 32, 0).ToDictionary(p => p.Name, p => p.TargetType);

    [Test]
    public void UseMoreBitsSelectsTheLlamaCppLayers()
    {
        Assert.That(Enumerable.Range(0, 32).Where(i => TensorTypePlanner.UseMoreBits(i, 32)), Is.EqualTo(s_moreBits32));
    }

    [TestCase("q4_k_m", DType.Q4_K)]
    [TestCase("q5_k_m", DType.Q5_K)]
    public void MediumMixesGiveQ6_KToHalfOfAttnVAndFfnDown(string target, DType baseType)
    {
        Dictionary<string, DType> plan = PlanOf(target);
        Assert.That(plan["output.weight"], Is.EqualTo(DType.Q6_K));
        Assert.That(plan["token_embd.weight"], Is.EqualTo(baseType));
        Assert.That(plan["output_norm.weight"], Is.EqualTo(DType.F32));
        for (int i = 0; i < 32; i++)
        {
            DType more = s_moreBits32.Contains(i) ? DType.Q6_K : baseType;
            Assert.That(plan[$"blk.{i}.attn_v.weight"], Is.EqualTo(more), $"attn_v {i}");
            Assert.That(plan[$"blk.{i}.ffn_down.weight"], Is.EqualTo(more), $"ffn_down {i}");
            Assert.That(plan[$"blk.{i}.attn_q.weight"], Is.EqualTo(baseType));
            Assert.That(plan[$"blk.{i}.attn_k.weight"], Is.EqualTo(baseType));
            Assert.That(plan[$"blk.{i}.ffn_up.weight"], Is.EqualTo(baseType));
            Assert.That(plan[$"blk.{i}.attn_norm.weight"], Is.EqualTo(DType.F32));
        }
    }

    [Test]
    public void Q4_K_SRaisesTheFirstLayers()
    {
        Dictionary<string, DType> plan = PlanOf("q4_k_s");
        for (int i = 0; i < 32; i++)
        {
            Assert.That(plan[$"blk.{i}.attn_v.weight"], Is.EqualTo(i < 4 ? DType.Q5_K : DType.Q4_K), $"attn_v {i}");
            Assert.That(plan[$"blk.{i}.ffn_down.weight"], Is.EqualTo(i < 32 / 8 ? DType.Q5_K : DType.Q4_K), $"ffn_down {i}");
        }
    }

    [TestCase("q4_0", DType.Q4_0, DType.Q6_K)]
    [TestCase("q5_1", DType.Q5_1, DType.Q6_K)]
    [TestCase("q8_0", DType.Q8_0, DType.Q8_0)]
    [TestCase("q6_k", DType.Q6_K, DType.Q6_K)]
    [TestCase("f16", DType.F16, DType.F16)]
    [TestCase("bf16", DType.BF16, DType.BF16)]
    public void UniformTypesOnlyChangeTheOutputTensor(string target, DType weights, DType output)
    {
        Dictionary<string, DType> plan = PlanOf(target);
        Assert.That(plan["output.weight"], Is.EqualTo(output));
        Assert.That(plan.Where(kv => kv.Key != "output.weight" && !kv.Key.Contains("norm")).Select(kv => kv.Value), Is.All.EqualTo(weights));
        Assert.That(plan.Where(kv => kv.Key.Contains("norm")).Select(kv => kv.Value), Is.All.EqualTo(DType.F32));
    }

    [Test]
    public void PlanIsInLlamaCppOrder()
    {
        IReadOnlyList<TensorPlan> plan = TensorTypePlanner.Plan(Llama32(), QuantizationTarget.Parse("q4_0"), "llama", 32, 0);
        Assert.That(plan.Take(3).Select(p => p.Name), Is.EqualTo(new[] { "output.weight", "output_norm.weight", "token_embd.weight" }));
        Assert.That(plan[3].Name, Is.EqualTo("blk.0.attn_k.weight"));
        Assert.That(plan[^1].Name, Is.EqualTo("blk.31.ffn_up.weight"));
        Assert.That(plan.Select(p => TensorTypePlanner.LayerOf(p.Name) ?? -1), Is.Ordered);
    }

    [Test]
    public void RowsThatAreNotWholeBlocksFallBack()
    {
        List<PlannerTensor> t =
        [
            new("output.weight", DType.F32, [64, 512]),       // 64 % 256 != 0 -> q8_0 (output rule)
            new("token_embd.weight", DType.F32, [64, 512]),   // q4_k -> q5_0
            new("blk.0.attn_v.weight", DType.F32, [64, 32]),  // use_more_bits(0, 1) -> q6_k -> q8_0
            new("blk.0.ffn_down.weight", DType.F32, [172, 64]), // q6_k -> q8_0 -> 172 % 32 != 0 -> f16
            new("blk.0.ffn_up.weight", DType.F32, [96, 64]),  // q4_k -> q5_0 (96 = 3 * 32)
        ];
        Dictionary<string, TensorPlan> plan = TensorTypePlanner.Plan(t, QuantizationTarget.Parse("q4_k_m"), "llama", 1, 0).ToDictionary(p => p.Name);
        Assert.That(plan["output.weight"].TargetType, Is.EqualTo(DType.Q8_0));
        Assert.That(plan["token_embd.weight"].TargetType, Is.EqualTo(DType.Q5_0));
        Assert.That(plan["blk.0.attn_v.weight"].TargetType, Is.EqualTo(DType.Q8_0));
        Assert.That(plan["blk.0.ffn_down.weight"].TargetType, Is.EqualTo(DType.F16));
        Assert.That(plan["blk.0.ffn_up.weight"].TargetType, Is.EqualTo(DType.Q5_0));
        Assert.That(plan["blk.0.ffn_up.weight"].Note, Does.Contain("falls back"));

        Dictionary<string, DType> q5 = TensorTypePlanner.Plan(t, QuantizationTarget.Parse("q5_k_s"), "llama", 1, 0).ToDictionary(p => p.Name, p => p.TargetType);
        Assert.That(q5["token_embd.weight"], Is.EqualTo(DType.Q5_1));
    }

    [Test]
    public void TiedEmbeddingsGetTheOutputType()
    {
        List<PlannerTensor> t = [new("token_embd.weight", DType.F32, [256, 1000]), new("blk.0.attn_q.weight", DType.F32, [256, 256])];
        Dictionary<string, DType> plan = TensorTypePlanner.Plan(t, QuantizationTarget.Parse("q4_k_m"), "llama", 1, 0).ToDictionary(p => p.Name, p => p.TargetType);
        Assert.That(plan["token_embd.weight"], Is.EqualTo(DType.Q6_K));
        Assert.That(plan["blk.0.attn_q.weight"], Is.EqualTo(DType.Q4_K));
    }

    [Test]
    public void UnknownTargetListsTheValidNames()
    {
        var ex = Assert.Throws<ArgumentException>(() => QuantizationTarget.Parse("q3_k_xl"));
        Assert.That(ex!.Message, Does.Contain("q3_k_xl").And.Contain("q4_k_m").And.Contain("q8_0"));
        Assert.That(QuantizationTarget.Parse("Q4_K").FileType, Is.EqualTo(LlamaFileType.MostlyQ4_K_M));
    }
}
