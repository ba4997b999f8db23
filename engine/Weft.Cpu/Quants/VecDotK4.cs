using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Weft.Core.Quants;

namespace Weft.Cpu.Quants;

/// <summary>
/// One K-quant weight row against four Q8_K activation rows (the prompt case): each super-block's scales and
/// values are unpacked once and serve four columns. Every column is computed in the order of the single-row AVX2
/// kernel (<see cref="VecDotQ4_K.Avx2Path"/>, <see cref="VecDotQ6_K.Avx2Path"/>: exact integer sums, then the same
/// f32 operations), so the results are bit-identical to it.
/// </summary>
public static unsafe class VecDotK4
{
    /// <summary>Q4_K weights: <c>result[c] = dot(x, y + c * yStride)</c> for c in 0..3 (Q8_K activations).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q4_K(int n, byte* x, byte* y, long yStride, float* result)
    {
        float* ht = QuantSimd.HalfTable;
        int nb = n / QK.K;
        BlockQ4_K* bx = (BlockQ4_K*)x;
        BlockQ8_K* y0 = (BlockQ8_K*)y, y1 = (BlockQ8_K*)(y + yStride), y2 = (BlockQ8_K*)(y + 2 * yStride), y3 = (BlockQ8_K*)(y + 3 * yStride);
        Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
        Vector128<float> m0 = Vector128<float>.Zero, m1 = m0, m2 = m0, m3 = m0;
        Vector256<byte> mask4 = Vector256.Create((byte)0x0F);
        for (int i = 0; i < nb; i++)
        {
            float dx = QuantSimd.Half(ht, &bx[i].D), dmx = QuantSimd.Half(ht, &bx[i].DMin);
            Vector128<byte> scMins = QuantSimd.UnpackScalesMinsK4(bx[i].Scales);
            Vector128<short> mins = Sse41.ConvertToVector128Int16(Sse2.ShiftRightLogical128BitLane(scMins, 8));
            m0 = Mins(mins, &y0[i], dmx, m0);
            m1 = Mins(mins, &y1[i], dmx, m1);
            m2 = Mins(mins, &y2[i], dmx, m2);
            m3 = Mins(mins, &y3[i], dmx, m3);
            Vector128<short> sc8 = Sse41.ConvertToVector128Int16(scMins);
            Vector256<short> scales = Vector256.Create(sc8, sc8);
            byte* q4 = bx[i].Qs;
            Vector256<int> s0 = Vector256<int>.Zero, s1 = s0, s2 = s0, s3 = s0;
            for (int j = 0; j < 4; j++)
            {
                Vector256<byte> bits = Avx.LoadVector256(q4 + 32 * j);
                Vector256<byte> lo = Avx2.And(bits, mask4);
                Vector256<byte> hi = Avx2.And(Avx2.ShiftRightLogical(bits.AsUInt16(), 4).AsByte(), mask4);
                // Sub-blocks 2j and 2j + 1: their scales spread to every short (byte pairs 4j..4j+1, 4j+2..4j+3).
                short mLo = (short)((4 * j + 1) << 8 | 4 * j), mHi = (short)((4 * j + 3) << 8 | (4 * j + 2));
                Vector256<short> scLo = QuantSimd.SpreadScales(scales, mLo, mLo), scHi = QuantSimd.SpreadScales(scales, mHi, mHi);
                int o = 64 * j;
                s0 = Avx2.Add(s0, VecDotQ4_K.DotNibbles(lo, hi, scLo, scHi, y0[i].Qs + o));
                s1 = Avx2.Add(s1, VecDotQ4_K.DotNibbles(lo, hi, scLo, scHi, y1[i].Qs + o));
                s2 = Avx2.Add(s2, VecDotQ4_K.DotNibbles(lo, hi, scLo, scHi, y2[i].Qs + o));
                s3 = Avx2.Add(s3, VecDotQ4_K.DotNibbles(lo, hi, scLo, scHi, y3[i].Qs + o));
            }
            a0 = Fma.MultiplyAdd(Vector256.Create(y0[i].D * dx), Avx.ConvertToVector256Single(s0), a0);
            a1 = Fma.MultiplyAdd(Vector256.Create(y1[i].D * dx), Avx.ConvertToVector256Single(s1), a1);
            a2 = Fma.MultiplyAdd(Vector256.Create(y2[i].D * dx), Avx.ConvertToVector256Single(s2), a2);
            a3 = Fma.MultiplyAdd(Vector256.Create(y3[i].D * dx), Avx.ConvertToVector256Single(s3), a3);
        }
        result[0] = QuantSimd.HSum(a0) - QuantSimd.HSum4(m0);
        result[1] = QuantSimd.HSum(a1) - QuantSimd.HSum4(m1);
        result[2] = QuantSimd.HSum(a2) - QuantSimd.HSum4(m2);
        result[3] = QuantSimd.HSum(a3) - QuantSimd.HSum4(m3);
    }

    /// <summary>Q6_K weights: <c>result[c] = dot(x, y + c * yStride)</c> for c in 0..3 (Q8_K activations).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q6_K(int n, byte* x, byte* y, long yStride, float* result)
    {
        float* ht = QuantSimd.HalfTable;
        int nb = n / QK.K;
        BlockQ6_K* bx = (BlockQ6_K*)x;
        BlockQ8_K* y0 = (BlockQ8_K*)y, y1 = (BlockQ8_K*)(y + yStride), y2 = (BlockQ8_K*)(y + 2 * yStride), y3 = (BlockQ8_K*)(y + 3 * yStride);
        Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
        for (int i = 0; i < nb; i++)
        {
            float dx = QuantSimd.Half(ht, &bx[i].D);
            sbyte* scales = bx[i].Scales;
            Vector256<short> sc16 = Avx2.ConvertToVector256Int16(scales);
            Vector256<int> s0 = Offset(sc16, &y0[i]), s1 = Offset(sc16, &y1[i]), s2 = Offset(sc16, &y2[i]), s3 = Offset(sc16, &y3[i]);
            for (int half = 0; half < 2; half++)
            {
                VecDotQ6_K.Unpack6(&bx[i], half, out Vector256<byte> q0, out Vector256<byte> q1, out Vector256<byte> q2, out Vector256<byte> q3);
                Vector128<short> sc8 = Sse41.ConvertToVector128Int16(scales + 8 * half);
                Vector256<short> sc = Vector256.Create(sc8, sc8);
                Vector256<short> c0 = QuantSimd.SpreadScales(sc, 0x0100, 0x0302), c1 = QuantSimd.SpreadScales(sc, 0x0504, 0x0706);
                Vector256<short> c2 = QuantSimd.SpreadScales(sc, 0x0908, 0x0B0A), c3 = QuantSimd.SpreadScales(sc, 0x0D0C, 0x0F0E);
                int o = 128 * half;
                s0 = Half6(s0, q0, q1, q2, q3, c0, c1, c2, c3, y0[i].Qs + o);
                s1 = Half6(s1, q0, q1, q2, q3, c0, c1, c2, c3, y1[i].Qs + o);
                s2 = Half6(s2, q0, q1, q2, q3, c0, c1, c2, c3, y2[i].Qs + o);
                s3 = Half6(s3, q0, q1, q2, q3, c0, c1, c2, c3, y3[i].Qs + o);
            }
            a0 = Fma.MultiplyAdd(Vector256.Create(y0[i].D * dx), Avx.ConvertToVector256Single(s0), a0);
            a1 = Fma.MultiplyAdd(Vector256.Create(y1[i].D * dx), Avx.ConvertToVector256Single(s1), a1);
            a2 = Fma.MultiplyAdd(Vector256.Create(y2[i].D * dx), Avx.ConvertToVector256Single(s2), a2);
            a3 = Fma.MultiplyAdd(Vector256.Create(y3[i].D * dx), Avx.ConvertToVector256Single(s3), a3);
        }
        result[0] = QuantSimd.HSum(a0);
        result[1] = QuantSimd.HSum(a1);
        result[2] = QuantSimd.HSum(a2);
        result[3] = QuantSimd.HSum(a3);
    }

    // Q4_K: accm += dmin * (mins · group-pair sums of the activations), as the single-row kernel.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Mins(Vector128<short> mins, BlockQ8_K* b, float dmx, Vector128<float> accm)
    {
        Vector256<short> bsums = Avx.LoadVector256(b->BSums);
        Vector128<short> q8s = Ssse3.HorizontalAdd(bsums.GetLower(), bsums.GetUpper());
        Vector128<int> prod = Sse2.MultiplyAddAdjacent(mins, q8s);
        return Fma.MultiplyAdd(Vector128.Create(b->D * dmx), Sse2.ConvertToVector128Single(prod), accm);
    }


    // Q6_K: the -32 offset of a super-block, -32 * sum_g(sc_g * ysum_g), the starting integer lanes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Offset(Vector256<short> sc16, BlockQ8_K* b)
    {
        Vector256<int> corr = Avx2.MultiplyAddAdjacent(sc16, Avx.LoadVector256(b->BSums));
        return Avx2.Subtract(Vector256<int>.Zero, Avx2.ShiftLeftLogical(corr, 5));
    }

    // Q6_K: 128 weights (q0..q3, 32 each, scales c0..c3) against 128 activation values.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Half6(Vector256<int> sumi, Vector256<byte> q0, Vector256<byte> q1, Vector256<byte> q2, Vector256<byte> q3,
        Vector256<short> c0, Vector256<short> c1, Vector256<short> c2, Vector256<short> c3, sbyte* y8)
    {
        sumi = Avx2.Add(sumi, Avx2.MultiplyAddAdjacent(c0, Avx2.MultiplyAddAdjacent(q0, Avx.LoadVector256(y8))));
        sumi = Avx2.Add(sumi, Avx2.MultiplyAddAdjacent(c1, Avx2.MultiplyAddAdjacent(q1, Avx.LoadVector256(y8 + 32))));
        sumi = Avx2.Add(sumi, Avx2.MultiplyAddAdjacent(c2, Avx2.MultiplyAddAdjacent(q2, Avx.LoadVector256(y8 + 64))));
        sumi = Avx2.Add(sumi, Avx2.MultiplyAddAdjacent(c3, Avx2.MultiplyAddAdjacent(q3, Avx.LoadVector256(y8 + 96))));
        return sumi;
    }
}
