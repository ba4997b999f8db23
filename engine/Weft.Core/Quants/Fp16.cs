namespace Weft.Core.Quants;

/// <summary>
/// IEEE 754 binary16 conversions with the exact rounding ggml uses (<c>GGML_FP32_TO_FP16</c>): round to nearest,
/// ties to even, overflow to infinity, gradual underflow to subnormals.
/// </summary>
/// <remarks>
/// Written as integer bit manipulation so the result never depends on the host's float-to-half instruction.
/// A NaN input becomes the quiet NaN <c>0x7E00</c> with the input's sign, as ggml's portable conversion does.
/// </remarks>
public static class Fp16
{
    /// <summary>Converts an F32 value to F16 bits.</summary>
    /// <remarks>Effectively computes <c>bits(half(value))</c> rounded to nearest even.</remarks>
    public static ushort ToHalf(float value)
    {
        uint x = BitConverter.SingleToUInt32Bits(value);
        uint sign = (x >> 16) & 0x8000u;
        uint abs = x & 0x7FFF_FFFFu;

        if (abs > 0x7F80_0000u)
        {
            return (ushort)(sign | 0x7E00u);
        }
        // 65520 = 65504 + half an ulp: from there on (ties to even included) the result is infinity.
        if (abs >= 0x477F_F000u)
        {
            return (ushort)(sign | 0x7C00u);
        }
        int e = (int)(abs >> 23);
        uint mant = abs & 0x7F_FFFFu;
        if (e >= 113)
        {
            // Normal half: drop 13 mantissa bits with round-to-nearest-even; a carry may bump the exponent.
            uint h = ((uint)(e - 112) << 10) | (mant >> 13);
            uint rest = mant & 0x1FFFu;
            if (rest > 0x1000u || (rest == 0x1000u && (h & 1u) != 0))
            {
                h++;
            }
            return (ushort)(sign | h);
        }
        if (e < 102)
        {
            // Below 2^-25 every value rounds to (signed) zero.
            return (ushort)sign;
        }
        // Subnormal half: value = m * 2^(e-150), half unit = 2^-24, so q = m >> (126 - e) rounded to even.
        uint m = mant | 0x80_0000u;
        int shift = 126 - e;
        uint q = m >> shift;
        uint remainder = m & ((1u << shift) - 1u);
        uint halfway = 1u << (shift - 1);
        if (remainder > halfway || (remainder == halfway && (q & 1u) != 0))
        {
            q++;
        }
        return (ushort)(sign | q);
    }

    /// <summary>Converts F16 bits to F32 (exact).</summary>
    public static float ToFloat(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);

    /// <summary>Converts a span of F32 values to F16 bits.</summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static void ToHalf(ReadOnlySpan<float> src, Span<ushort> dst)
    {
        if (src.Length != dst.Length)
        {
            throw new ArgumentException($"f16 conversion: {src.Length} source values but room for {dst.Length}.", nameof(dst));
        }
        for (int i = 0; i < src.Length; i++)
        {
            dst[i] = ToHalf(src[i]);
        }
    }

    /// <summary>Converts a span of F16 bits to F32.</summary>
    /// <exception cref="ArgumentException">The spans differ in length.</exception>
    public static void ToFloat(ReadOnlySpan<ushort> src, Span<float> dst)
    {
        if (src.Length != dst.Length)
        {
            throw new ArgumentException($"f16 conversion: {src.Length} source values but room for {dst.Length}.", nameof(dst));
        }
        for (int i = 0; i < src.Length; i++)
        {
            dst[i] = ToFloat(src[i]);
        }
    }
}
