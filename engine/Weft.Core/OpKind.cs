namespace Weft.Core;

/// <summary>
/// The operations a graph node can hold. Adding one means, in order: this enum and a builder method in
/// <see cref="GraphBuilder"/> (shape rule in OpInfo) → CPU kernel + tests → shader + manifest line →
/// Vulkan op. <c>OpKindTests</c> asserts that every value has a name, a shape rule and a CPU kernel.
/// </summary>
public enum OpKind
{
    /// <summary>A leaf: weights, inputs, KV cache.</summary>
    None = 0,
    /// <summary>dst[i, r] = src0[i, ids[r]] dequantized to F32: token embedding lookup (any dtype).</summary>
    GetRows,
    /// <summary>dst = src0 + src1, src1 broadcast along dims where its size is 1 (or divides).</summary>
    Add,
    /// <summary>dst = src0 * src1, with the broadcast rule of <see cref="Add"/>.</summary>
    Mul,
    /// <summary>dst = src0 * s (param 0, f32 bits).</summary>
    Scale,
    /// <summary>dst = src0 / sqrt(mean(src0^2) + eps) per row (eps = param 0, f32 bits).</summary>
    RmsNorm,
    /// <summary>dst = (src0 - mean) / sqrt(var + eps) per row (LayerNorm without affine).</summary>
    Norm,
    /// <summary>Rotary position embedding of src0 with positions src1 (I32); params: n_dims, mode, n_ctx_orig, freq_base, freq_scale; optional src2 frequency factors.</summary>
    Rope,
    /// <summary>dst = softmax(src0 * scale + mask) per row; causal mask from n_past when param 1 is set, or src1 as an additive mask.</summary>
    SoftMax,
    /// <summary>dst[n, m] = sum_k src0[k, n] * src1[k, m] (ggml's mul_mat: src0 is the weight, rows dot rows).</summary>
    MatMul,
    /// <summary>dst = x * sigmoid(x).</summary>
    Silu,
    /// <summary>dst = gelu(x) (tanh approximation, as ggml).</summary>
    Gelu,
    /// <summary>dst = silu(src0) * src1.</summary>
    SwiGlu,
    /// <summary>Copy src0 into src1 (a tensor or view of any supported dtype), converting; dst is a view of src1.</summary>
    Cpy,
    /// <summary>Make a contiguous copy of a (possibly strided) view.</summary>
    Cont,
    /// <summary>No-op view with another shape over contiguous data.</summary>
    Reshape,
    /// <summary>No-op view with explicit ne/nb/offset.</summary>
    View,
    /// <summary>No-op view with permuted axes.</summary>
    Permute,
    /// <summary>No-op view swapping axes 0 and 1.</summary>
    Transpose,
    /// <summary>Fused causal attention: q (src0), k (src1), v (src2), optional mask (src3); GQA/MQA by head broadcast; online softmax.</summary>
    FlashAttn,
    /// <summary>
    /// Scatter rows: row r of src0 (F32) is converted and written to row ids[r] of src1 (any supported type; the result
    /// is a view of src1), with ids from src2 (I32). Lets a graph write the KV cache at run-time positions, so one
    /// decode graph serves every position (ggml's set_rows).
    /// </summary>
    SetRows,
    /// <summary>
    /// dst[i, j] = distance(src0[:, i], src1[:, j]) for every pair of columns (F32 [n_a, n_b]); param 0 is a
    /// <see cref="PairwiseMetric"/>: squared L2 <c>Σ(a−b)²</c> computed directly, or the inner-product distance <c>1 − Σ a·b</c>.
    /// Batched exact nearest-neighbour search and re-scoring.
    /// </summary>
    PairwiseDistance,
    /// <summary>Number of op kinds (not an op).</summary>
    Count,
}
