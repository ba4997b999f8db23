namespace Weft.Core;

/// <summary>
/// Element and block types of tensors. The numeric values are ggml's <c>ggml_type</c> ids, so a GGUF tensor's
/// type field maps to this enum without a table. Ids that ggml retired (4, 5, 31-33) are absent.
/// </summary>
/// <remarks>
/// Weft computes with F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K weights and the activation
/// types Q8_1 and Q8_K. The other ids are known so that files holding them can be inspected and rejected with a
/// clear message (see <see cref="TypeTraits.IsSupported"/>).
/// </remarks>
public enum DType
{
    /// <summary>32-bit IEEE float.</summary>
    F32 = 0,
    /// <summary>16-bit IEEE half.</summary>
    F16 = 1,
    /// <summary>32 weights: f16 scale, 4-bit values with an implicit -8 offset.</summary>
    Q4_0 = 2,
    /// <summary>32 weights: f16 scale and min, 4-bit values.</summary>
    Q4_1 = 3,
    /// <summary>32 weights: f16 scale, 5-bit values with an implicit -16 offset.</summary>
    Q5_0 = 6,
    /// <summary>32 weights: f16 scale and min, 5-bit values.</summary>
    Q5_1 = 7,
    /// <summary>32 weights: f16 scale, 8-bit signed values.</summary>
    Q8_0 = 8,
    /// <summary>32 activations: f16 scale, f16 scale*sum, 8-bit signed values (dot partner of Q4_1/Q5_1).</summary>
    Q8_1 = 9,
    /// <summary>256-weight super-block, 2-bit (known, not computed).</summary>
    Q2_K = 10,
    /// <summary>256-weight super-block, 3-bit (known, not computed).</summary>
    Q3_K = 11,
    /// <summary>256-weight super-block of 8 sub-blocks, 4-bit values with 6-bit scales and mins.</summary>
    Q4_K = 12,
    /// <summary>256-weight super-block of 8 sub-blocks, 5-bit values with 6-bit scales and mins.</summary>
    Q5_K = 13,
    /// <summary>256-weight super-block of 16 sub-blocks, 6-bit values with 8-bit scales.</summary>
    Q6_K = 14,
    /// <summary>256 activations: f32 scale, 8-bit values, sums of each 16 (dot partner of the K types).</summary>
    Q8_K = 15,
    /// <summary>ggml IQ2_XXS (known, not computed).</summary>
    IQ2_XXS = 16,
    /// <summary>ggml IQ2_XS (known, not computed).</summary>
    IQ2_XS = 17,
    /// <summary>ggml IQ3_XXS (known, not computed).</summary>
    IQ3_XXS = 18,
    /// <summary>ggml IQ1_S (known, not computed).</summary>
    IQ1_S = 19,
    /// <summary>ggml IQ4_NL (known, not computed).</summary>
    IQ4_NL = 20,
    /// <summary>ggml IQ3_S (known, not computed).</summary>
    IQ3_S = 21,
    /// <summary>ggml IQ2_S (known, not computed).</summary>
    IQ2_S = 22,
    /// <summary>ggml IQ4_XS (known, not computed).</summary>
    IQ4_XS = 23,
    /// <summary>8-bit signed integer.</summary>
    I8 = 24,
    /// <summary>16-bit signed integer.</summary>
    I16 = 25,
    /// <summary>32-bit signed integer (token ids, positions).</summary>
    I32 = 26,
    /// <summary>64-bit signed integer.</summary>
    I64 = 27,
    /// <summary>64-bit IEEE float.</summary>
    F64 = 28,
    /// <summary>ggml IQ1_M (known, not computed).</summary>
    IQ1_M = 29,
    /// <summary>bfloat16: the upper half of an F32.</summary>
    BF16 = 30,
    /// <summary>ggml TQ1_0 (known, not computed).</summary>
    TQ1_0 = 34,
    /// <summary>ggml TQ2_0 (known, not computed).</summary>
    TQ2_0 = 35,
    /// <summary>ggml MXFP4 (known, not computed).</summary>
    MXFP4 = 39,
}
