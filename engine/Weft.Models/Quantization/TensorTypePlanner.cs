using System.Globalization;
using Weft.Core;

namespace Weft.Models.Quantization;

/// <summary>One tensor as the planner sees it.</summary>
/// <param name="Name">GGUF tensor name (<c>blk.3.attn_v.weight</c>).</param>
/// <param name="Type">Type in the source file.</param>
/// <param name="Shape">ne0 first.</param>
public sealed record PlannerTensor(string Name, DType Type, long[] Shape);

/// <summary>The decision for one tensor.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="SourceType">Type in the source file.</param>
/// <param name="TargetType">Type in the output (equal to <paramref name="SourceType"/> when copied).</param>
/// <param name="Shape">ne0 first.</param>
/// <param name="Note">Why the type differs from the target's default (a mix rule or a fallback), or null.</param>
public sealed record TensorPlan(string Name, DType SourceType, DType TargetType, long[] Shape, string? Note)
{
    /// <summary>True when the tensor's bytes change.</summary>
    public bool Converts => SourceType != TargetType;
}

/// <summary>
/// Chooses each tensor's output type the way llama.cpp's <c>llama_model_quantize_impl</c> and
/// <c>llama_tensor_get_type</c> do for the file types in <see cref="LlamaFileType"/> (no imatrix, not pure).
/// </summary>
/// <remarks>
/// <para>Rules: only tensors named <c>*weight</c> with 2+ dimensions are converted; norms (<c>*_norm.weight</c>), MoE
/// gates, positional and token-type embeddings, Mamba conv and RWKV time-mix vectors are copied. For quantized
/// targets <c>output.weight</c> (or <c>token_embd.weight</c> when there is no separate output) gets Q6_K, or Q8_0
/// when its rows are not a multiple of the default type's block size (or the model is Falcon). The _m mixes give
/// Q6_K to the attn_v and ffn_down tensors of the layers <c>use_more_bits</c> selects (the first and last eighth and
/// every third layer between).</para>
/// <para>A row length that is not a multiple of the chosen block falls back as llama.cpp does: Q4_K→Q5_0,
/// Q5_K→Q5_1, Q6_K→Q8_0, then F16 if still not a multiple. For the 32-weight types llama.cpp stops with
/// "Unsupported tensor size"; Weft falls back to F16 instead (noted in the plan) so small models still convert.</para>
/// <para>Tensors are processed in llama.cpp's order: by layer number (<c>blk.N.</c>, non-layer tensors first), then by
/// name. The layer counters of the attn_v and ffn_down rules follow that order.</para>
/// </remarks>
public static class TensorTypePlanner
{
    /// <summary>Orders tensors as llama.cpp's <c>weight_name_comparer</c>: layer number (-1 for none) then ordinal name.</summary>
    public static IEnumerable<T> InLlamaOrder<T>(IEnumerable<T> tensors, Func<T, string> name) =>
        tensors.OrderBy(t => LayerOf(name(t)) ?? -1).ThenBy(name, StringComparer.Ordinal);

    /// <summary>The <c>N</c> of a <c>blk.N.</c> prefix, or null.</summary>
    public static int? LayerOf(string name)
    {
        if (!name.StartsWith("blk.", StringComparison.Ordinal))
        {
            return null;
        }
        int end = name.IndexOf('.', 4);
        return end > 4 && int.TryParse(name.AsSpan(4, end - 4), NumberStyles.None, CultureInfo.InvariantCulture, out int layer) ? layer : null;
    }

    /// <summary>Plans every tensor, in llama.cpp's processing order.</summary>
    /// <param name="tensors">The model's tensors (any order).</param>
    /// <param name="target">The quantization target.</param>
    /// <param name="architecture"><c>general.architecture</c> (Falcon has its own rules).</param>
    /// <param name="layerCount"><c>{arch}.block_count</c>.</param>
    /// <param name="expertCount"><c>{arch}.expert_count</c>, 0 for dense models.</param>
    /// <exception cref="ArgumentException">A MoE tensor name carries no usable layer number.</exception>
    public static IReadOnlyList<TensorPlan> Plan(IEnumerable<PlannerTensor> tensors, QuantizationTarget target, string architecture,
        int layerCount, int expertCount)
    {
        List<PlannerTensor> ordered = InLlamaOrder(tensors, t => t.Name).ToList();
        var state = new State(target.FileType, architecture, Math.Max(1, layerCount), expertCount)
        {
            AttentionWvCount = ordered.Count(t => t.Name.Contains("attn_v.weight", StringComparison.Ordinal)
                || t.Name.Contains("attn_qkv.weight", StringComparison.Ordinal)
                || t.Name.Contains("attn_kv_b.weight", StringComparison.Ordinal)),
            HasOutput = ordered.Any(t => t.Name == "output.weight"),
        };

        var plans = new List<TensorPlan>(ordered.Count);
        foreach (PlannerTensor t in ordered)
        {
            if (!IsQuantizable(t))
            {
                plans.Add(new TensorPlan(t.Name, t.Type, t.Type, t.Shape, null));
                continue;
            }
            DType type = target.DefaultType;
            string? note = null;
            if (target.IsQuantized)
            {
                type = GetType(state, type, t, out note);
            }
            plans.Add(new TensorPlan(t.Name, t.Type, type, t.Shape, type == target.DefaultType ? null : note));
        }
        return plans;
    }

    /// <summary>llama.cpp's test of whether a tensor is a candidate for conversion at all.</summary>
    public static bool IsQuantizable(PlannerTensor t)
    {
        string n = t.Name;
        int dims = t.Shape.Length;
        while (dims > 1 && t.Shape[dims - 1] == 1)
        {
            dims--;   // ggml_n_dims ignores trailing 1s
        }
        return n.EndsWith("weight", StringComparison.Ordinal)
            && dims >= 2
            && !n.Contains("_norm.weight", StringComparison.Ordinal)
            && !n.Contains("ffn_gate_inp.weight", StringComparison.Ordinal)
            && n != "position_embd.weight"
            && n != "token_types.weight"
            && !n.Contains("ssm_conv1d.weight", StringComparison.Ordinal)
            && !n.Contains("shortconv.conv.weight", StringComparison.Ordinal)
            && !n.Contains("time_mix_first.weight", StringComparison.Ordinal)
            && !n.Contains("time_mix_w0.weight", StringComparison.Ordinal)
            && !n.Contains("time_mix_w1.weight", StringComparison.Ordinal)
            && !n.Contains("time_mix_w2.weight", StringComparison.Ordinal)
            && !n.Contains("time_mix_v0.weight", StringComparison.Ordinal)
            && !n.Contains("time_mix_v1.weight", StringComparison.Ordinal)
            && !n.Contains("time_mix_v2.weight", StringComparison.Ordinal)
            && !n.Contains("time_mix_a0.weight", StringComparison.Ordinal)
            && !n.Contains("time_mix_a1.weight", StringComparison.Ordinal)
            && !n.Contains("time_mix_a2.weight", StringComparison.Ordinal)
            && !n.Contains("time_mix_g1.weight", StringComparison.Ordinal)
            && !n.Contains("time_mix_g2.weight", StringComparison.Ordinal)
            && !n.Contains("time_mix_decay_w1.weight", StringComparison.Ordinal)
            && !n.Contains("time_mix_decay_w2.weight", StringComparison.Ordinal)
            && !n.Contains("time_mix_lerp_fused.weight", StringComparison.Ordinal)
            && !n.Contains("attn_rel_b.weight", StringComparison.Ordinal);
    }

    /// <summary>
    /// llama.cpp <c>use_more_bits</c>: the first and last eighth of the layers, and every third layer in between.
    /// </summary>
    public static bool UseMoreBits(int layer, int layerCount) =>
        layer < layerCount / 8 || layer >= 7 * layerCount / 8 || (layer - layerCount / 8) % 3 == 2;

    private sealed class State(LlamaFileType ftype, string arch, int layerCount, int expertCount)
    {
        public LlamaFileType FileType { get; } = ftype;
        public bool IsFalcon { get; } = arch == "falcon";
        public bool Is70B { get; } = arch == "llama" && layerCount == 80;
        public int LayerCount { get; } = layerCount;
        public int ExpertCount { get; } = expertCount;
        public int AttentionWvCount { get; init; }
        public bool HasOutput { get; init; }
        public int AttentionWv;
        public int FfnDown;
    }

    private static DType GetType(State qs, DType newType, PlannerTensor t, out string? note)
    {
        string name = t.Name;
        LlamaFileType ftype = qs.FileType;
        note = null;
        bool isMix = ftype is LlamaFileType.MostlyQ4_K_M or LlamaFileType.MostlyQ5_K_M;

        if (name == "output.weight" || (!qs.HasOutput && name == "token_embd.weight"))
        {
            long nx = t.Shape[0];
            int qk = TypeTraits.Of(newType).BlockSize;
            if (qs.IsFalcon || nx % qk != 0)
            {
                newType = DType.Q8_0;
            }
            else if (newType != DType.Q8_0)
            {
                newType = DType.Q6_K;
            }
            note = "output tensor";
        }
        else if (name == "token_embd.weight" || name == "per_layer_token_embd.weight")
        {
            // No change for these file types.
        }
        else if (name.Contains("attn_v.weight", StringComparison.Ordinal))
        {
            if (isMix && UseMoreBits(qs.AttentionWv, qs.AttentionWvCount))
            {
                newType = DType.Q6_K;
                note = $"attn_v #{qs.AttentionWv} (use_more_bits)";
            }
            else if (ftype == LlamaFileType.MostlyQ4_K_S && qs.AttentionWv < 4)
            {
                newType = DType.Q5_K;
                note = $"attn_v #{qs.AttentionWv} (first 4)";
            }
            if (qs.Is70B && newType == DType.Q4_K)
            {
                newType = DType.Q5_K;
                note = "attn_v of a 70B model";
            }
            if (qs.ExpertCount == 8)
            {
                newType = DType.Q8_0;
                note = "attn_v of an 8-expert model";
            }
            ++qs.AttentionWv;
        }
        else if (name.Contains("attn_k.weight", StringComparison.Ordinal))
        {
            if (qs.ExpertCount == 8)
            {
                newType = DType.Q8_0;
                note = "attn_k of an 8-expert model";
            }
        }
        else if (name.Contains("ffn_down", StringComparison.Ordinal))
        {
            int iLayer = qs.FfnDown;
            int nLayer = qs.LayerCount;
            if (qs.ExpertCount > 1)
            {
                iLayer = LayerOf(name) ?? throw new ArgumentException($"Failed to determine the layer of tensor {name}.");
                if (iLayer < 0 || iLayer >= nLayer)
                {
                    throw new ArgumentException($"Bad layer {iLayer} for tensor {name}: must be in [0, {nLayer}).");
                }
            }
            if (ftype == LlamaFileType.MostlyQ4_K_M)
            {
                if (qs.IsFalcon)
                {
                    newType = iLayer < nLayer / 16 ? DType.Q6_K : UseMoreBits(iLayer, nLayer) ? DType.Q5_K : DType.Q4_K;
                }
                else if (UseMoreBits(iLayer, nLayer))
                {
                    newType = DType.Q6_K;
                }
            }
            else if (ftype == LlamaFileType.MostlyQ5_K_M && UseMoreBits(iLayer, nLayer))
            {
                newType = DType.Q6_K;
            }
            else if (ftype == LlamaFileType.MostlyQ4_K_S && !qs.IsFalcon && iLayer < nLayer / 8)
            {
                newType = DType.Q5_K;
            }
            note = $"ffn_down layer {iLayer}";
            ++qs.FfnDown;
        }
        else if (name.Contains("attn_output.weight", StringComparison.Ordinal))
        {
            if (!qs.IsFalcon && qs.ExpertCount == 8 && ftype is LlamaFileType.MostlyQ4_K_S or LlamaFileType.MostlyQ4_K_M)
            {
                newType = DType.Q5_K;
                note = "attn_output of an 8-expert model";
            }
        }
        else if (name.Contains("attn_qkv.weight", StringComparison.Ordinal))
        {
            if (ftype == LlamaFileType.MostlyQ4_K_M)
            {
                newType = DType.Q5_K;
                note = "attn_qkv";
            }
            else if (ftype == LlamaFileType.MostlyQ5_K_M)
            {
                newType = DType.Q6_K;
                note = "attn_qkv";
            }
        }

        // Rows must be whole blocks: llama.cpp's fallback table, then F16.
        long ne0 = t.Shape[0];
        if (ne0 % TypeTraits.Of(newType).BlockSize != 0)
        {
            DType chosen = newType;
            newType = newType switch
            {
                DType.Q4_K => DType.Q5_0,
                DType.Q5_K => DType.Q5_1,
                DType.Q6_K => DType.Q8_0,
                _ => DType.F16,
            };
            if (ne0 % TypeTraits.Of(newType).BlockSize != 0)
            {
                newType = DType.F16;
            }
            note = $"{(note is null ? "" : note + "; ")}ne0 = {ne0} is not a multiple of {TypeTraits.Of(chosen).BlockSize}: {TypeTraits.Of(chosen).Name} falls back to {TypeTraits.Of(newType).Name}";
        }
        return newType;
    }
}
