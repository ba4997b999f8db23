using System.Buffers.Binary;

namespace Weft.Core.Quants;

// The 256-weight super-block formats. Layouts: BlockQ4_K, BlockQ5_K, BlockQ6_K, BlockQ8_K in QuantBlocks.cs.
public static partial class Quantize
{
    private const int QkK = QK.K;

    /// <summary>
    /// Q4_K: per 32-weight sub-block an asymmetric 4-bit fit (weights av_x + |x|, 21 candidate scales), then the 8
    /// scales and mins are themselves quantized to 6 bits against f16 super-scales and the weights re-quantized.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths do not fit whole blocks.</exception>
    public static void RowQ4_K(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = CheckSizes(DType.Q4_K, src.Length, dst.Length);
        Span<byte> l = stackalloc byte[QkK];
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * QkK, QkK);
            Span<byte> y = dst.Slice(i * 144, 144);
            Span<byte> scalesPacked = y.Slice(4, 12);
            FitSubBlocks(x, l, 15, -1f, 0.1f, 20, scalesPacked, y);
            Span<byte> q = y.Slice(16, 128);
            for (int j = 0, o = 0; j < QkK; j += 64, o += 32)
            {
                for (int k = 0; k < 32; ++k)
                {
                    q[o + k] = (byte)(l[j + k] | (l[j + k + 32] << 4));
                }
            }
        }
    }

    /// <summary>Q5_K: as <see cref="RowQ4_K"/> with 5-bit values (16 candidate scales); the fifth bits go to <c>qh</c>.</summary>
    /// <exception cref="ArgumentException">The lengths do not fit whole blocks.</exception>
    public static void RowQ5_K(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = CheckSizes(DType.Q5_K, src.Length, dst.Length);
        Span<byte> l = stackalloc byte[QkK];
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * QkK, QkK);
            Span<byte> y = dst.Slice(i * 176, 176);
            FitSubBlocks(x, l, 31, -0.5f, 0.1f, 15, y.Slice(4, 12), y);
            Span<byte> qh = y.Slice(16, 32);
            Span<byte> ql = y.Slice(48, 128);
            qh.Clear();
            byte m1 = 1, m2 = 2;
            for (int n = 0, o = 0; n < QkK; n += 64, o += 32)
            {
                for (int j = 0; j < 32; ++j)
                {
                    int l1 = l[n + j];
                    if (l1 > 15)
                    {
                        l1 -= 16;
                        qh[j] |= m1;
                    }
                    int l2 = l[n + j + 32];
                    if (l2 > 15)
                    {
                        l2 -= 16;
                        qh[j] |= m2;
                    }
                    ql[o + j] = (byte)(l1 | (l2 << 4));
                }
                m1 <<= 2;
                m2 <<= 2;
            }
        }
    }

    // Shared by Q4_K and Q5_K: sub-block fits, 6-bit scale/min packing, f16 d/dmin (first 4 bytes of the block),
    // and the final re-quantization of every weight against the stored (rounded) scales.
    private static void FitSubBlocks(ReadOnlySpan<float> x, Span<byte> l, int nmax, float rmin, float rdelta, int nstep,
        Span<byte> scalesPacked, Span<byte> block)
    {
        Span<float> weights = stackalloc float[32];
        Span<byte> laux = stackalloc byte[32];
        Span<float> mins = stackalloc float[QkK / 32];
        Span<float> scales = stackalloc float[QkK / 32];
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < QkK / 32; ++j)
        {
            ReadOnlySpan<float> xs = x.Slice(32 * j, 32);
            float sumX2 = 0;
            for (int k = 0; k < 32; ++k)
            {
                sumX2 += xs[k] * xs[k];
            }
            float avX = MathF.Sqrt(sumX2 / 32);
            for (int k = 0; k < 32; ++k)
            {
                weights[k] = avX + MathF.Abs(xs[k]);
            }
            scales[j] = QuantMath.MakeQkx2Quants(32, nmax, xs, weights, l.Slice(32 * j, 32), out mins[j], laux, rmin, rdelta, nstep);
            if (scales[j] > maxScale)
            {
                maxScale = scales[j];
            }
            if (mins[j] > maxMin)
            {
                maxMin = mins[j];
            }
        }

        float invScale = maxScale > 0 ? 63f / maxScale : 0f;
        float invMin = maxMin > 0 ? 63f / maxMin : 0f;
        for (int j = 0; j < QkK / 32; ++j)
        {
            byte ls = (byte)QuantMath.NearestInt(invScale * scales[j]);
            byte lm = (byte)QuantMath.NearestInt(invMin * mins[j]);
            ls = Math.Min((byte)63, ls);
            lm = Math.Min((byte)63, lm);
            QuantMath.PutScaleMinK4(j, scalesPacked, ls, lm);
        }
        ushort dBits = Fp16.ToHalf(maxScale / 63f);
        ushort dminBits = Fp16.ToHalf(maxMin / 63f);
        BinaryPrimitives.WriteUInt16LittleEndian(block, dBits);
        BinaryPrimitives.WriteUInt16LittleEndian(block[2..], dminBits);
        float dAll = Fp16.ToFloat(dBits);
        float dminAll = Fp16.ToFloat(dminBits);

        for (int j = 0; j < QkK / 32; ++j)
        {
            QuantMath.GetScaleMinK4(j, scalesPacked, out byte sc, out byte m);
            float d = dAll * sc;
            if (d == 0)
            {
                continue;
            }
            float dm = dminAll * m;
            for (int k = 0; k < 32; ++k)
            {
                int q = QuantMath.NearestInt((x[32 * j + k] + dm) / d);
                l[32 * j + k] = (byte)Math.Max(0, Math.Min(nmax, q));
            }
        }
    }

    /// <summary>
    /// Q6_K: per 16-weight sub-block a symmetric 6-bit fit (weights x², 19 candidate scales), 8-bit sub-block scales
    /// against one f16 super-scale, then re-quantization of every weight.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths do not fit whole blocks.</exception>
    public static void RowQ6_K(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = CheckSizes(DType.Q6_K, src.Length, dst.Length);
        Span<sbyte> l = stackalloc sbyte[QkK];
        Span<float> scales = stackalloc float[QkK / 16];
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * QkK, QkK);
            Span<byte> y = dst.Slice(i * 210, 210);
            Span<byte> ql = y[..128];
            Span<byte> qh = y.Slice(128, 64);
            Span<byte> sc = y.Slice(192, 16);

            float maxScale = 0;
            float maxAbsScale = 0;
            for (int ib = 0; ib < QkK / 16; ++ib)
            {
                float scale = QuantMath.MakeQxQuantsRmse1(16, 32, x.Slice(16 * ib, 16), l.Slice(16 * ib, 16));
                scales[ib] = scale;
                float absScale = MathF.Abs(scale);
                if (absScale > maxAbsScale)
                {
                    maxAbsScale = absScale;
                    maxScale = scale;
                }
            }

            if (maxAbsScale < QuantMath.GroupMaxEps)
            {
                y.Clear();
                continue;
            }

            float iscale = -128f / maxScale;
            ushort dBits = Fp16.ToHalf(1 / iscale);
            BinaryPrimitives.WriteUInt16LittleEndian(y[208..], dBits);
            for (int ib = 0; ib < QkK / 16; ++ib)
            {
                sc[ib] = (byte)(sbyte)Math.Min(127, QuantMath.NearestInt(iscale * scales[ib]));
            }
            float dAll = Fp16.ToFloat(dBits);
            for (int j = 0; j < QkK / 16; ++j)
            {
                float d = dAll * (sbyte)sc[j];
                if (d == 0)
                {
                    continue;
                }
                for (int k = 0; k < 16; ++k)
                {
                    int q = QuantMath.NearestInt(x[16 * j + k] / d);
                    q = Math.Max(-32, Math.Min(31, q));
                    l[16 * j + k] = (sbyte)(q + 32);
                }
            }

            for (int j = 0, oql = 0, oqh = 0; j < QkK; j += 128, oql += 64, oqh += 32)
            {
                for (int k = 0; k < 32; ++k)
                {
                    int q1 = l[j + k] & 0xF;
                    int q2 = l[j + k + 32] & 0xF;
                    int q3 = l[j + k + 64] & 0xF;
                    int q4 = l[j + k + 96] & 0xF;
                    ql[oql + k] = (byte)(q1 | (q3 << 4));
                    ql[oql + k + 32] = (byte)(q2 | (q4 << 4));
                    qh[oqh + k] = (byte)((l[j + k] >> 4) | ((l[j + k + 32] >> 4) << 2) | ((l[j + k + 64] >> 4) << 4) | ((l[j + k + 96] >> 4) << 6));
                }
            }
        }
    }

    /// <summary>Q8_K: d = max / -127 (f32) where max is the signed value of largest magnitude; q = min(127, round(x/d)); sums of each 16.</summary>
    /// <exception cref="ArgumentException">The lengths do not fit whole blocks.</exception>
    public static void RowQ8_K(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int nb = CheckSizes(DType.Q8_K, src.Length, dst.Length);
        for (int i = 0; i < nb; i++)
        {
            ReadOnlySpan<float> x = src.Slice(i * QkK, QkK);
            Span<byte> y = dst.Slice(i * 292, 292);
            float max = 0, amax = 0;
            for (int j = 0; j < QkK; ++j)
            {
                float ax = MathF.Abs(x[j]);
                if (ax > amax)
                {
                    amax = ax;
                    max = x[j];
                }
            }
            if (amax == 0)
            {
                // ggml leaves bsums untouched here; zero them so the block is fully defined.
                y.Clear();
                continue;
            }
            float iscale = -127f / max;
            Span<byte> qs = y.Slice(4, QkK);
            for (int j = 0; j < QkK; ++j)
            {
                int v = QuantMath.NearestInt(iscale * x[j]);
                qs[j] = (byte)(sbyte)Math.Min(127, v);
            }
            for (int j = 0; j < QkK / 16; ++j)
            {
                int sum = 0;
                for (int k = 0; k < 16; ++k)
                {
                    sum += (sbyte)qs[j * 16 + k];
                }
                BinaryPrimitives.WriteInt16LittleEndian(y[(4 + QkK + 2 * j)..], (short)sum);
            }
            BinaryPrimitives.WriteSingleLittleEndian(y, 1 / iscale);
        }
    }
}
