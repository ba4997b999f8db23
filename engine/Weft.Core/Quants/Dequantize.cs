using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Weft.Core.Quants;

/// <summary>
/// Reference dequantization of ggml block formats to F32, value-identical to ggml's <c>dequantize_row_*</c>
/// (same float operation order, so results match bit for bit).
/// </summary>
/// <remarks>Usage: <c>Dequantize.Row(DType.Q8_0, bytes, values)</c> with <c>values.Length</c> a multiple of 32.</remarks>
public static class Dequantize
{
    /// <summary>True when <see cref="Row"/> can read <paramref name="type"/>.</summary>
    public static bool IsSupported(DType type) => Quantize.IsSupported(type);

    /// <summary>Dequantizes <paramref name="src"/> (whole blocks of <paramref name="type"/>) into <paramref name="dst"/>.</summary>
    /// <param name="type">Source type.</param>
    /// <param name="src">Exactly <c>TypeTraits.Of(type).RowSize(dst.Length)</c> bytes.</param>
    /// <param name="dst">Output values; the length must be a multiple of the type's block size.</param>
    /// <exception cref="ArgumentException">The lengths do not fit the type's blocks.</exception>
    /// <exception cref="NotSupportedException">The type cannot be read (see <see cref="IsSupported"/>).</exception>
    public static void Row(DType type, ReadOnlySpan<byte> src, Span<float> dst)
    {
        switch (type)
        {
            case DType.F32: RowF32(src, dst); break;
            case DType.F16: RowF16(src, dst); break;
            case DType.BF16: RowBF16(src, dst); break;
            case DType.Q4_0: RowQ4_0(src, dst); break;
            case DType.Q4_1: RowQ4_1(src, dst); break;
            case DType.Q5_0: RowQ5_0(src, dst); break;
            case DType.Q5_1: RowQ5_1(src, dst); break;
            case DType.Q8_0: RowQ8_0(src, dst); break;
            case DType.Q8_1: RowQ8_1(src, dst); break;
            case DType.Q4_K: RowQ4_K(src, dst); break;
            case DType.Q5_K: RowQ5_K(src, dst); break;
            case DType.Q6_K: RowQ6_K(src, dst); break;
            case DType.Q8_K: RowQ8_K(src, dst); break;
            default:
                throw new NotSupportedException(
                    $"Dequantizing {Quantize.TypeName(type)} is not supported; supported types: f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, q8_1, q4_k, q5_k, q6_k, q8_k.");
        }
    }

    /// <summary>Copies raw little-endian F32 bytes.</summary>
    /// <exception cref="ArgumentException">Size mismatch.</exception>
    public static void RowF32(ReadOnlySpan<byte> src, Span<float> dst)
    {
        Quantize.CheckSizes(DType.F32, dst.Length, src.Length);
        src.CopyTo(MemoryMarshal.AsBytes(dst));
    }

    /// <summary>F16 to F32 (exact).</summary>
    /// <exception cref="ArgumentException">Size mismatch.</exception>
    public static void RowF16(ReadOnlySpan<byte> src, Span<float> dst)
    {
        Quantize.CheckSizes(DType.F16, dst.Length, src.Length);
        for (int i = 0; i < dst.Length; i++)
        {
            dst[i] = Fp16.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]));
        }
    }

    /// <summary>BF16 to F32 (exact).</summary>
    /// <exception cref="ArgumentException">Size mismatch.</exception>
    public static void RowBF16(ReadOnlySpan<byte> src, Span<float> dst)
    {
        Quantize.CheckSizes(DType.BF16, dst.Length, src.Length);
        for (int i = 0; i < dst.Length; i++)
        {
            dst[i] = Bf16.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(src[(2 * i)..]));
        }
    }

    /// <summary>Q4_0: <c>y = (q - 8) * d</c>.</summary>
    /// <exception cref="ArgumentException">Size mismatch.</exception>
    public static void RowQ4_0(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = Quantize.CheckSizes(DType.Q4_0, dst.Length, src.Length);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * 18, 18);
            Span<float> y = dst.Slice(i * 32, 32);
            float d = Half(b);
            for (int j = 0; j < 16; ++j)
            {
                int x0 = (b[2 + j] & 0x0F) - 8;
                int x1 = (b[2 + j] >> 4) - 8;
                y[j] = x0 * d;
                y[j + 16] = x1 * d;
            }
        }
    }

    /// <summary>Q4_1: <c>y = q * d + m</c>.</summary>
    /// <exception cref="ArgumentException">Size mismatch.</exception>
    public static void RowQ4_1(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = Quantize.CheckSizes(DType.Q4_1, dst.Length, src.Length);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * 20, 20);
            Span<float> y = dst.Slice(i * 32, 32);
            float d = Half(b);
            float m = Half(b[2..]);
            for (int j = 0; j < 16; ++j)
            {
                int x0 = b[4 + j] & 0x0F;
                int x1 = b[4 + j] >> 4;
                y[j] = x0 * d + m;
                y[j + 16] = x1 * d + m;
            }
        }
    }

    /// <summary>Q5_0: <c>y = (q - 16) * d</c>.</summary>
    /// <exception cref="ArgumentException">Size mismatch.</exception>
    public static void RowQ5_0(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = Quantize.CheckSizes(DType.Q5_0, dst.Length, src.Length);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * 22, 22);
            Span<float> y = dst.Slice(i * 32, 32);
            float d = Half(b);
            uint qh = BinaryPrimitives.ReadUInt32LittleEndian(b[2..]);
            for (int j = 0; j < 16; ++j)
            {
                int xh0 = (int)(((qh >> j) << 4) & 0x10);
                int xh1 = (int)((qh >> (j + 12)) & 0x10);
                int x0 = ((b[6 + j] & 0x0F) | xh0) - 16;
                int x1 = ((b[6 + j] >> 4) | xh1) - 16;
                y[j] = x0 * d;
                y[j + 16] = x1 * d;
            }
        }
    }

    /// <summary>Q5_1: <c>y = q * d + m</c>.</summary>
    /// <exception cref="ArgumentException">Size mismatch.</exception>
    public static void RowQ5_1(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = Quantize.CheckSizes(DType.Q5_1, dst.Length, src.Length);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * 24, 24);
            Span<float> y = dst.Slice(i * 32, 32);
            float d = Half(b);
            float m = Half(b[2..]);
            uint qh = BinaryPrimitives.ReadUInt32LittleEndian(b[4..]);
            for (int j = 0; j < 16; ++j)
            {
                int xh0 = (int)(((qh >> j) << 4) & 0x10);
                int xh1 = (int)((qh >> (j + 12)) & 0x10);
                int x0 = (b[8 + j] & 0x0F) | xh0;
                int x1 = (b[8 + j] >> 4) | xh1;
                y[j] = x0 * d + m;
                y[j + 16] = x1 * d + m;
            }
        }
    }

    /// <summary>Q8_0: <c>y = q * d</c>.</summary>
    /// <exception cref="ArgumentException">Size mismatch.</exception>
    public static void RowQ8_0(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = Quantize.CheckSizes(DType.Q8_0, dst.Length, src.Length);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * 34, 34);
            Span<float> y = dst.Slice(i * 32, 32);
            float d = Half(b);
            for (int j = 0; j < 32; ++j)
            {
                y[j] = (sbyte)b[2 + j] * d;
            }
        }
    }

    /// <summary>Q8_1: <c>y = q * d</c> (the stored sum is not needed).</summary>
    /// <exception cref="ArgumentException">Size mismatch.</exception>
    public static void RowQ8_1(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = Quantize.CheckSizes(DType.Q8_1, dst.Length, src.Length);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * 36, 36);
            Span<float> y = dst.Slice(i * 32, 32);
            float d = Half(b);
            for (int j = 0; j < 32; ++j)
            {
                y[j] = (sbyte)b[4 + j] * d;
            }
        }
    }

    /// <summary>Q4_K: <c>y = d * sc * q - dmin * m</c> per 32-weight sub-block.</summary>
    /// <exception cref="ArgumentException">Size mismatch.</exception>
    public static void RowQ4_K(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = Quantize.CheckSizes(DType.Q4_K, dst.Length, src.Length);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * 144, 144);
            Span<float> y = dst.Slice(i * 256, 256);
            float d = Half(b);
            float min = Half(b[2..]);
            ReadOnlySpan<byte> scales = b.Slice(4, 12);
            ReadOnlySpan<byte> q = b.Slice(16, 128);
            int o = 0;
            for (int j = 0, iS = 0, oq = 0; j < 256; j += 64, iS += 2, oq += 32)
            {
                QuantMath.GetScaleMinK4(iS, scales, out byte sc, out byte m);
                float d1 = d * sc, m1 = min * m;
                QuantMath.GetScaleMinK4(iS + 1, scales, out sc, out m);
                float d2 = d * sc, m2 = min * m;
                for (int l = 0; l < 32; ++l)
                {
                    y[o++] = d1 * (q[oq + l] & 0xF) - m1;
                }
                for (int l = 0; l < 32; ++l)
                {
                    y[o++] = d2 * (q[oq + l] >> 4) - m2;
                }
            }
        }
    }

    /// <summary>Q5_K: <c>y = d * sc * (q + 16*h) - dmin * m</c> per 32-weight sub-block.</summary>
    /// <exception cref="ArgumentException">Size mismatch.</exception>
    public static void RowQ5_K(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = Quantize.CheckSizes(DType.Q5_K, dst.Length, src.Length);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * 176, 176);
            Span<float> y = dst.Slice(i * 256, 256);
            float d = Half(b);
            float min = Half(b[2..]);
            ReadOnlySpan<byte> scales = b.Slice(4, 12);
            ReadOnlySpan<byte> qh = b.Slice(16, 32);
            ReadOnlySpan<byte> ql = b.Slice(48, 128);
            int o = 0;
            byte u1 = 1, u2 = 2;
            for (int j = 0, iS = 0, oq = 0; j < 256; j += 64, iS += 2, oq += 32)
            {
                QuantMath.GetScaleMinK4(iS, scales, out byte sc, out byte m);
                float d1 = d * sc, m1 = min * m;
                QuantMath.GetScaleMinK4(iS + 1, scales, out sc, out m);
                float d2 = d * sc, m2 = min * m;
                for (int l = 0; l < 32; ++l)
                {
                    y[o++] = d1 * ((ql[oq + l] & 0xF) + ((qh[l] & u1) != 0 ? 16 : 0)) - m1;
                }
                for (int l = 0; l < 32; ++l)
                {
                    y[o++] = d2 * ((ql[oq + l] >> 4) + ((qh[l] & u2) != 0 ? 16 : 0)) - m2;
                }
                u1 <<= 2;
                u2 <<= 2;
            }
        }
    }

    /// <summary>Q6_K: <c>y = d * sc * (q - 32)</c> per 16-weight sub-block.</summary>
    /// <exception cref="ArgumentException">Size mismatch.</exception>
    public static void RowQ6_K(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = Quantize.CheckSizes(DType.Q6_K, dst.Length, src.Length);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * 210, 210);
            Span<float> y = dst.Slice(i * 256, 256);
            float d = Half(b[208..]);
            for (int n = 0, oql = 0, oqh = 0, osc = 192; n < 256; n += 128, oql += 64, oqh += 32, osc += 8)
            {
                for (int l = 0; l < 32; ++l)
                {
                    int iS = l / 16;
                    int h = b[128 + oqh + l];
                    int q1 = ((b[oql + l] & 0xF) | (((h >> 0) & 3) << 4)) - 32;
                    int q2 = ((b[oql + l + 32] & 0xF) | (((h >> 2) & 3) << 4)) - 32;
                    int q3 = ((b[oql + l] >> 4) | (((h >> 4) & 3) << 4)) - 32;
                    int q4 = ((b[oql + l + 32] >> 4) | (((h >> 6) & 3) << 4)) - 32;
                    y[n + l] = d * (sbyte)b[osc + iS] * q1;
                    y[n + l + 32] = d * (sbyte)b[osc + iS + 2] * q2;
                    y[n + l + 64] = d * (sbyte)b[osc + iS + 4] * q3;
                    y[n + l + 96] = d * (sbyte)b[osc + iS + 6] * q4;
                }
            }
        }
    }

    /// <summary>Q8_K: <c>y = q * d</c> with an f32 scale.</summary>
    /// <exception cref="ArgumentException">Size mismatch.</exception>
    public static void RowQ8_K(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int nb = Quantize.CheckSizes(DType.Q8_K, dst.Length, src.Length);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<byte> b = src.Slice(i * 292, 292);
            Span<float> y = dst.Slice(i * 256, 256);
            float d = BinaryPrimitives.ReadSingleLittleEndian(b);
            for (int j = 0; j < 256; ++j)
            {
                y[j] = d * (sbyte)b[4 + j];
            }
        }
    }

    private static float Half(ReadOnlySpan<byte> b) => Fp16.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(b));
}
