using System.Runtime.InteropServices;

namespace Weft.Core.Quants;

// Block layouts identical to ggml's ggml-common.h (and to shaders/common/types.glsl).
// Every struct is Pack = 1; QuantBlockTests asserts Unsafe.SizeOf against the spec size.

/// <summary>Number of weights in the simple (non-K) quant blocks.</summary>
public static class QK
{
    /// <summary>Weights per Q4_0/Q4_1/Q5_0/Q5_1/Q8_0/Q8_1 block.</summary>
    public const int Simple = 32;
    /// <summary>Weights per K-quant super-block.</summary>
    public const int K = 256;
    /// <summary>Bytes of packed 6-bit scales and mins in Q4_K/Q5_K.</summary>
    public const int KScaleSize = 12;
}

/// <summary>Q4_0: x = d * (q - 8), q in 0..15. 18 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_0
{
    /// <summary>Scale (f16).</summary>
    public Half D;
    /// <summary>Nibbles: weight j in the low nibble of byte j, weight j+16 in the high nibble.</summary>
    public fixed byte Qs[16];
}

/// <summary>Q4_1: x = d * q + m, q in 0..15. 20 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_1
{
    /// <summary>Scale (f16).</summary>
    public Half D;
    /// <summary>Minimum (f16).</summary>
    public Half M;
    /// <summary>Nibbles, laid out as in Q4_0.</summary>
    public fixed byte Qs[16];
}

/// <summary>Q5_0: x = d * (q - 16), q in 0..31. 22 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ5_0
{
    /// <summary>Scale (f16).</summary>
    public Half D;
    /// <summary>Fifth bits: bit j of this little-endian uint32 is the high bit of weight j.</summary>
    public fixed byte Qh[4];
    /// <summary>Low nibbles, laid out as in Q4_0.</summary>
    public fixed byte Qs[16];
}

/// <summary>Q5_1: x = d * q + m, q in 0..31. 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ5_1
{
    /// <summary>Scale (f16).</summary>
    public Half D;
    /// <summary>Minimum (f16).</summary>
    public Half M;
    /// <summary>Fifth bits, as in Q5_0.</summary>
    public fixed byte Qh[4];
    /// <summary>Low nibbles, laid out as in Q4_0.</summary>
    public fixed byte Qs[16];
}

/// <summary>Q8_0: x = d * q, q in -127..127. 34 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8_0
{
    /// <summary>Scale (f16).</summary>
    public Half D;
    /// <summary>Signed 8-bit values.</summary>
    public fixed sbyte Qs[32];
}

/// <summary>Q8_1: as Q8_0 plus s = d * sum(q), used against Q4_1/Q5_1 mins. 36 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8_1
{
    /// <summary>Scale (f16).</summary>
    public Half D;
    /// <summary>d * sum(qs) (f16).</summary>
    public Half S;
    /// <summary>Signed 8-bit values.</summary>
    public fixed sbyte Qs[32];
}

/// <summary>Q2_K super-block (known for sizes only). 84 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ2_K
{
    /// <summary>4-bit scales and mins of the 16 sub-blocks.</summary>
    public fixed byte Scales[16];
    /// <summary>2-bit values.</summary>
    public fixed byte Qs[64];
    /// <summary>Super-block scale for the scales (f16).</summary>
    public Half D;
    /// <summary>Super-block scale for the mins (f16).</summary>
    public Half DMin;
}

/// <summary>Q3_K super-block (known for sizes only). 110 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ3_K
{
    /// <summary>High bit of each value.</summary>
    public fixed byte HMask[32];
    /// <summary>Low 2 bits of each value.</summary>
    public fixed byte Qs[64];
    /// <summary>6-bit scales, packed.</summary>
    public fixed byte Scales[12];
    /// <summary>Super-block scale (f16).</summary>
    public Half D;
}

/// <summary>Q4_K: 8 sub-blocks of 32, x = d * sc * q - dmin * m, 6-bit sc/m. 144 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_K
{
    /// <summary>Super-block scale for the sub-block scales (f16).</summary>
    public Half D;
    /// <summary>Super-block scale for the sub-block mins (f16).</summary>
    public Half DMin;
    /// <summary>Sub-block scales and mins, 6 bits each, packed into 12 bytes.</summary>
    public fixed byte Scales[12];
    /// <summary>4-bit values: 64-weight chunks, low nibbles first, then high nibbles.</summary>
    public fixed byte Qs[128];
}

/// <summary>Q5_K: as Q4_K with a fifth bit per weight. 176 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ5_K
{
    /// <summary>Super-block scale for the sub-block scales (f16).</summary>
    public Half D;
    /// <summary>Super-block scale for the sub-block mins (f16).</summary>
    public Half DMin;
    /// <summary>Sub-block scales and mins, 6 bits each, packed into 12 bytes.</summary>
    public fixed byte Scales[12];
    /// <summary>Fifth bits.</summary>
    public fixed byte Qh[32];
    /// <summary>Low 4 bits, as in Q4_K.</summary>
    public fixed byte Qs[128];
}

/// <summary>Q6_K: 16 sub-blocks of 16, x = d * sc * (q - 32), 8-bit sc. 210 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ6_K
{
    /// <summary>Low 4 bits of each value.</summary>
    public fixed byte Ql[128];
    /// <summary>High 2 bits of each value.</summary>
    public fixed byte Qh[64];
    /// <summary>Signed 8-bit sub-block scales.</summary>
    public fixed sbyte Scales[16];
    /// <summary>Super-block scale (f16).</summary>
    public Half D;
}

/// <summary>Q8_K: activations for K-quant dots. 292 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8_K
{
    /// <summary>Scale (f32).</summary>
    public float D;
    /// <summary>Signed 8-bit values.</summary>
    public fixed sbyte Qs[256];
    /// <summary>Sum of each group of 16 values.</summary>
    public fixed short BSums[16];
}
