namespace Weft.Core.Quants;

/// <summary>bfloat16 conversions as ggml does them (<c>ggml_compute_fp32_to_bf16</c>).</summary>
public static class Bf16
{
    /// <summary>Converts an F32 value to BF16 bits: round to nearest, ties to even; a NaN is kept and made quiet.</summary>
    /// <remarks>Effectively computes <c>(bits + 0x7FFF + ((bits &gt;&gt; 16) &amp; 1)) &gt;&gt; 16</c>; NaN gives <c>(bits &gt;&gt; 16) | 0x40</c>.</remarks>
    public static ushort FromFloat(float value)
    {
        uint x = BitConverter.SingleToUInt32Bits(value);
        if ((x & 0x7FFF_FFFFu) > 0x7F80_0000u)
        {
            return (ushort)((x >> 16) | 64u);
        }
        return (ushort)((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
    }

    /// <summary>Converts BF16 bits to F32 (exact: the bits become the upper half of the F32).</summary>
    public static float ToFloat(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);
}
