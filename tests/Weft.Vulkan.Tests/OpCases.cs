using Weft.Core;

namespace Weft.Vulkan.Tests;

/// <summary>The cases of the backend op suite: odd and even shapes, every op of the Llama graph.</summary>
public static class OpCases
{
    private static readonly int[] s_positions = [0, 3, 7, 2, 11];

    public static IEnumerable<OpCase> All()
    {
        yield return new("add_10x5x4x3", (g, i) => g.Add(i.Random(g, DType.F32, 10, 5, 4, 3), i.Random(g, DType.F32, 10, 5, 4, 3)));
        yield return new("add_broadcast_127x3", (g, i) => g.Add(i.Random(g, DType.F32, 127, 3, 2), i.Random(g, DType.F32, 127, 1, 2)));
        yield return new("mul_broadcast_128x4", (g, i) => g.Mul(i.Random(g, DType.F32, 128, 4), i.Random(g, DType.F32, 128)));
        yield return new("scale_127x3", (g, i) => g.Scale(i.Random(g, DType.F32, 127, 3), 0.37f));
        yield return new("silu_128x4", (g, i) => g.Silu(i.Random(g, DType.F32, 128, 4, scale: 4f)));
        yield return new("gelu_33x7", (g, i) => g.Gelu(i.Random(g, DType.F32, 33, 7, scale: 3f)));
        yield return new("swiglu_127x2", (g, i) => g.SwiGlu(i.Random(g, DType.F32, 127, 2, scale: 3f), i.Random(g, DType.F32, 127, 2)));
        yield return new("rms_norm_127x3", (g, i) => g.RmsNorm(i.Random(g, DType.F32, 127, 3), 1e-5f));
        yield return new("rms_norm_256x4x2", (g, i) => g.RmsNorm(i.Random(g, DType.F32, 256, 4, 2), 1e-6f));
        yield return new("norm_65x5", (g, i) => g.Norm(i.Random(g, DType.F32, 65, 5), 1e-5f));
        yield return new("soft_max_127x4", (g, i) => g.SoftMax(i.Random(g, DType.F32, 127, 4, scale: 5f), 0.5f));
        yield return new("soft_max_causal_10x4x3", (g, i) => g.SoftMax(i.Random(g, DType.F32, 10, 4, 3, scale: 5f), 0.7f, causal: true, nPast: 2));
        yield return new("soft_max_mask_16x4x2", (g, i) => g.SoftMax(i.Random(g, DType.F32, 16, 4, 2), 1f, mask: i.Random(g, DType.F32, 16, 4, scale: 2f)));
        yield return new("rope_normal_16x4x5", (g, i) => g.Rope(i.Random(g, DType.F32, 16, 4, 5), i.Ints(g, s_positions, 5), 16, RopeMode.Normal));
        yield return new("rope_neox_partial_24x3x5", (g, i) => g.Rope(i.Random(g, DType.F32, 24, 3, 5), i.Ints(g, s_positions, 5), 8, RopeMode.NeoX, freqBase: 500f));
        yield return new("rope_ff_yarn_16x2x5", (g, i) => g.Rope(i.Random(g, DType.F32, 16, 2, 5), i.Ints(g, s_positions, 5), 16, RopeMode.Normal,
            nCtxOrig: 64, freqScale: 0.5f, extFactor: 1f, freqFactors: i.Random(g, DType.F32, 8, scale: 0.5f, bias: 1f)));
        foreach (DType t in new[] { DType.F32, DType.F16, DType.Q8_0, DType.Q4_0, DType.Q4_K, DType.Q6_K })
        {
            DType tt = t;
            yield return new($"get_rows_{tt}_256x7", (g, i) => g.GetRows(i.Random(g, tt, 256, 7), i.Ints(g, [3, 0, 6, 6, 1], 5)));
        }
        // Cpy runs where its destination lives, so the destinations are nodes (on the backend under test).
        yield return new("cpy_f32_f16_33x4", (g, i) => g.Cpy(i.Random(g, DType.F32, 33, 4), g.Cont(i.Random(g, DType.F16, 33, 4))));
        yield return new("cpy_f16_f32_view_10x3", (g, i) =>
        {
            Tensor dst = g.Scale(i.Random(g, DType.F32, 16, 3), 1f);
            return g.Cpy(i.Random(g, DType.F16, 10, 3), g.View(dst, Long4.Of(30), 30 * 4, 30 * 4, 30 * 4, 4 * 2));
        });
        yield return new("set_rows_f32_16x6", (g, i) => g.SetRows(g.Scale(i.Random(g, DType.F32, 16, 6), 1f), i.Random(g, DType.F32, 16, 3), i.Ints(g, [4, 0, 5], 3)));
        yield return new("set_rows_f16_33x5", (g, i) => g.SetRows(g.Cont(i.Random(g, DType.F16, 33, 5)), i.Random(g, DType.F32, 33, 2), i.Ints(g, [3, 1], 2)));
        yield return new("cont_permute_10x5x4", (g, i) => g.Cont(g.Permute(i.Random(g, DType.F32, 10, 5, 4), 1, 0, 2, 3)));
        yield return new("flash_attn_f32_causal_16x5x4_kv7x2", (g, i) =>
            g.FlashAttn(i.Random(g, DType.F32, 16, 5, 4), i.Random(g, DType.F32, 16, 7, 2), i.Random(g, DType.F32, 16, 7, 2), 0.25f, causal: true, nPast: 2));
        yield return new("flash_attn_f16_full_32x3x4_kv9x1_dv24", (g, i) =>
            g.FlashAttn(i.Random(g, DType.F32, 32, 3, 4), i.Random(g, DType.F16, 32, 9, 1), i.Random(g, DType.F16, 24, 9, 1), 0.2f, causal: false), 1e-7, 1e-6);
        yield return new("flash_attn_kv_length_16x2x2_kv70", (g, i) =>
            g.FlashAttn(i.Random(g, DType.F32, 16, 2, 2), i.Random(g, DType.F16, 16, 70, 2), i.Random(g, DType.F16, 16, 70, 2), 0.25f, causal: true,
                kvLength: i.Ints(g, [67], 1)), 1e-7, 1e-6);
        // Masks (F32 and F16, rows padded past n_q, planes broadcast over heads: head h reads plane h % 2), softcap,
        // GQA and odd n_kv. Every flash_attn case also runs with the other shader variant (FlashAttnVariantTests).
        yield return new("flash_attn_mask_f32_gqa_32x3x4_kv7x2", (g, i) =>
            g.FlashAttn(i.Random(g, DType.F32, 32, 3, 4), i.Random(g, DType.F32, 32, 7, 2), i.Random(g, DType.F32, 32, 7, 2), 0.25f, causal: false,
                mask: i.Random(g, DType.F32, 7, 3, scale: 2f)));
        yield return new("flash_attn_mask_f16_causal_16x4x4_kv9", (g, i) =>
            g.FlashAttn(i.Random(g, DType.F32, 16, 4, 4), i.Random(g, DType.F16, 16, 9, 4), i.Random(g, DType.F16, 16, 9, 4), 0.3f, causal: true, nPast: 5,
                mask: i.Random(g, DType.F16, 12, 6, 2, scale: 2f)), 1e-7, 1e-6);
        yield return new("flash_attn_softcap_f16_24x3x2_kv11", (g, i) =>
            g.FlashAttn(i.Random(g, DType.F32, 24, 3, 2, scale: 2f), i.Random(g, DType.F16, 24, 11, 1, scale: 2f), i.Random(g, DType.F16, 24, 11, 1), 0.5f,
                causal: false, softcap: 1.5f), 1e-7, 1e-6);
        yield return new("flash_attn_softcap_mask_f32_16x2x2_kv5", (g, i) =>
            g.FlashAttn(i.Random(g, DType.F32, 16, 2, 2, scale: 2f), i.Random(g, DType.F32, 16, 5, 2, scale: 2f), i.Random(g, DType.F32, 16, 5, 2), 0.6f,
                causal: true, nPast: 3, mask: i.Random(g, DType.F32, 5, 2), softcap: 2f));
        // Q8_0 K/V: both backends score with the query rounded to Q8_0 (ggml's CPU scheme), so against the double
        // reference (unrounded query) the bound covers that rounding (NMSE ~1e-6 measured at these sizes), while
        // Vulkan against the CPU is held to float precision.
        yield return new("flash_attn_q8_0_causal_64x3x4_kv13x2", (g, i) =>
            g.FlashAttn(i.Random(g, DType.F32, 64, 3, 4), i.Random(g, DType.Q8_0, 64, 13, 2), i.Random(g, DType.Q8_0, 64, 13, 2), 0.125f, causal: true, nPast: 10),
            1e-5, 1e-7);
        yield return new("flash_attn_q8_0_dv32_96x2x2_kv5_mask_f16", (g, i) =>
            g.FlashAttn(i.Random(g, DType.F32, 96, 2, 2), i.Random(g, DType.Q8_0, 96, 5, 1), i.Random(g, DType.Q8_0, 32, 5, 1), 0.1f, causal: false,
                mask: i.Random(g, DType.F16, 5, 2, scale: 2f)), 1e-5, 1e-7);
        yield return new("flash_attn_q8_0_decode_128x1x4_kv19x1", (g, i) =>
            g.FlashAttn(i.Random(g, DType.F32, 128, 1, 4), i.Random(g, DType.Q8_0, 128, 19, 1), i.Random(g, DType.Q8_0, 128, 19, 1), 0.088f, causal: true,
                nPast: 18), 1e-5, 1e-7);
        yield return new("flash_attn_q8_0_kv_length_mask_32x2x2_kv70", (g, i) =>
            g.FlashAttn(i.Random(g, DType.F32, 32, 2, 2), i.Random(g, DType.Q8_0, 32, 70, 2), i.Random(g, DType.Q8_0, 32, 70, 2), 0.18f, causal: true,
                mask: i.Random(g, DType.F32, 70, 2), softcap: 3f, kvLength: i.Ints(g, [67], 1)), 1e-5, 1e-7);
        // From 8 columns on the tiled matrix x matrix kernel runs (partial 16 x 16 tiles at the edges).
        yield return new("mul_mm_f32_127x33x17", (g, i) => g.MatMul(i.Random(g, DType.F32, 127, 33), i.Random(g, DType.F32, 127, 17)));
        yield return new("mul_mm_f32_batched_64x20x2_by_9x4", (g, i) => g.MatMul(i.Random(g, DType.F32, 64, 20, 2), i.Random(g, DType.F32, 64, 9, 4)));
        yield return new("mul_mm_f16_96x16x16", (g, i) => g.MatMul(i.Random(g, DType.F16, 96, 16), i.Random(g, DType.F32, 96, 16)), 1e-7, 1e-5);
        yield return new("mul_mm_q8_0_64x18x8", (g, i) => g.MatMul(i.Random(g, DType.Q8_0, 64, 18), i.Random(g, DType.F32, 64, 8)), 1e-4, 1e-4);
        yield return new("mul_mm_q4_0_64x17x9", (g, i) => g.MatMul(i.Random(g, DType.Q4_0, 64, 17), i.Random(g, DType.F32, 64, 9)), 1e-4, 1e-4);
        yield return new("mul_mm_q4_k_256x17x10", (g, i) => g.MatMul(i.Random(g, DType.Q4_K, 256, 17), i.Random(g, DType.F32, 256, 10)), 1e-4, 1e-4);
        yield return new("mul_mm_q6_k_256x19x8", (g, i) => g.MatMul(i.Random(g, DType.Q6_K, 256, 19), i.Random(g, DType.F32, 256, 8)), 1e-4, 1e-4);
        yield return new("mul_mat_f32_127x9x3", (g, i) => g.MatMul(i.Random(g, DType.F32, 127, 9), i.Random(g, DType.F32, 127, 3)));
        yield return new("mul_mat_f32_batched_32x8x2_by_4", (g, i) => g.MatMul(i.Random(g, DType.F32, 32, 8, 2), i.Random(g, DType.F32, 32, 3, 4)));
        yield return new("mul_mat_f16_128x17x2", (g, i) => g.MatMul(i.Random(g, DType.F16, 128, 17), i.Random(g, DType.F32, 128, 2)), 1e-7, 1e-5);
        yield return new("mul_mat_q8_0_256x17x2", (g, i) => g.MatMul(i.Random(g, DType.Q8_0, 256, 17), i.Random(g, DType.F32, 256, 2)), 1e-4, 1e-4);
        yield return new("mul_mat_q4_0_256x9x1", (g, i) => g.MatMul(i.Random(g, DType.Q4_0, 256, 9), i.Random(g, DType.F32, 256, 1)), 1e-4, 1e-4);
        yield return new("mul_mat_q4_k_512x9x2", (g, i) => g.MatMul(i.Random(g, DType.Q4_K, 512, 9), i.Random(g, DType.F32, 512, 2)), 1e-4, 1e-4);
        yield return new("mul_mat_q6_k_256x11x1", (g, i) => g.MatMul(i.Random(g, DType.Q6_K, 256, 11), i.Random(g, DType.F32, 256, 1)), 1e-4, 1e-4);
    }
}
