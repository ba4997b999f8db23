using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Weft.Core.Quants;

namespace Weft.Cpu.Quants;

/// <summary>Q4_K weights · Q8_K activations (ggml <c>ggml_vec_dot_q4_K_q8_K</c>).</summary>
public static unsafe class VecDotQ4_K
{
    /// <summary>Scale and min of sub-block <paramref name="j"/> (0..7) from the packed 12 bytes (ggml get_scale_min_k4).</summary>
    internal static void ScaleMin(int j, byte* q, out int sc, out int m)
    {
        if (j < 4)
        {
            sc = q[j] & 63;
            m = q[j + 4] & 63;
        }
        else
        {
            sc = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4);
            m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
        }
    }

    /// <summary>
    /// Scalar reference: per super-block, <c>dy * dx * sum_j(sc_j * sum(q * y)) - dy * dmin * sum_j(m_j * ysum_j)</c>
    /// with ysum_j from the Q8_K group sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Reference(int n, byte* x, byte* y)
    {
        float* ht = QuantSimd.HalfTable;
        int nb = n / QK.K;
        BlockQ4_K* bx = (BlockQ4_K*)x;
        BlockQ8_K* by = (BlockQ8_K*)y;
        float s = 0;
        for (int i = 0; i < nb; i++)
        {
            byte* qs = bx[i].Qs;
            sbyte* q8 = by[i].Qs;
            int sumi = 0, summ = 0;
            for (int j = 0; j < 8; j++)
            {
                ScaleMin(j, bx[i].Scales, out int sc, out int m);
                int shift = (j & 1) * 4;
                byte* q = qs + (j >> 1) * 32;
                int dot = 0;
                for (int l = 0; l < 32; l++)
                {
                    dot += ((q[l] >> shift) & 0x0F) * q8[j * 32 + l];
                }
                sumi += sc * dot;
                summ += m * (by[i].BSums[2 * j] + by[i].BSums[2 * j + 1]);
            }
            float d = by[i].D * QuantSimd.Half(ht, &bx[i].D);
            float dmin = by[i].D * QuantSimd.Half(ht, &bx[i].DMin);
            s += d * sumi - dmin * summ;
        }
        return s;
    }

    /// <summary>AVX2 path: unsigned nibbles · q8 with vpmaddubsw, scaled per sub-block with vpmaddwd; mins from group sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx2Path(int n, byte* x, byte* y)
    {
        float* ht = QuantSimd.HalfTable;
        int nb = n / QK.K;
        BlockQ4_K* bx = (BlockQ4_K*)x;
        BlockQ8_K* by = (BlockQ8_K*)y;
        Vector256<float> acc = Vector256<float>.Zero;
        Vector128<float> accm = Vector128<float>.Zero;
        Vector256<byte> m4 = Vector256.Create((byte)0x0F);
        for (int i = 0; i < nb; i++)
        {
            float d = by[i].D * QuantSimd.Half(ht, &bx[i].D);
            float dmin = by[i].D * QuantSimd.Half(ht, &bx[i].DMin);
            Vector128<byte> scMins = QuantSimd.UnpackScalesMinsK4(bx[i].Scales);

            Vector128<short> mins = Sse41.ConvertToVector128Int16(Sse2.ShiftRightLogical128BitLane(scMins, 8));
            Vector256<short> bsums = Avx.LoadVector256(by[i].BSums);
            Vector128<short> q8s = Ssse3.HorizontalAdd(bsums.GetLower(), bsums.GetUpper());
            Vector128<int> prod = Sse2.MultiplyAddAdjacent(mins, q8s);
            accm = Fma.MultiplyAdd(Vector128.Create(dmin), Sse2.ConvertToVector128Single(prod), accm);

            // The 8 sub-block scales as shorts in both lanes; SpreadScales broadcasts one of them (constant masks).
            Vector128<short> sc8 = Sse41.ConvertToVector128Int16(scMins);
            Vector256<short> scales = Vector256.Create(sc8, sc8);
            byte* q4 = bx[i].Qs;
            sbyte* q8 = by[i].Qs;
            Vector256<int> sumi = Step(q4, q8, QuantSimd.SpreadScales(scales, 0x0100, 0x0100), QuantSimd.SpreadScales(scales, 0x0302, 0x0302), m4);
            sumi = Avx2.Add(sumi, Step(q4 + 32, q8 + 64, QuantSimd.SpreadScales(scales, 0x0504, 0x0504), QuantSimd.SpreadScales(scales, 0x0706, 0x0706), m4));
            sumi = Avx2.Add(sumi, Step(q4 + 64, q8 + 128, QuantSimd.SpreadScales(scales, 0x0908, 0x0908), QuantSimd.SpreadScales(scales, 0x0B0A, 0x0B0A), m4));
            sumi = Avx2.Add(sumi, Step(q4 + 96, q8 + 192, QuantSimd.SpreadScales(scales, 0x0D0C, 0x0D0C), QuantSimd.SpreadScales(scales, 0x0F0E, 0x0F0E), m4));
            acc = Fma.MultiplyAdd(Vector256.Create(d), Avx.ConvertToVector256Single(sumi), acc);
        }
        return QuantSimd.HSum(acc) - QuantSimd.HSum4(accm);
    }

    // 64 weights: low nibbles (sub-block scale scLo) and high nibbles (scHi) against 64 q8 values.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Step(byte* q4, sbyte* q8, Vector256<short> scLo, Vector256<short> scHi, Vector256<byte> m4)
    {
        Vector256<byte> bits = Avx.LoadVector256(q4);
        Vector256<byte> lo = Avx2.And(bits, m4);
        Vector256<byte> hi = Avx2.And(Avx2.ShiftRightLogical(bits.AsUInt16(), 4).AsByte(), m4);
        return DotNibbles(lo, hi, scLo, scHi, q8);
    }

    /// <summary>Unpacked low nibbles (scale scLo) and high nibbles (scHi) of 64 weights against 64 q8 values: 8 int lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<int> DotNibbles(Vector256<byte> lo, Vector256<byte> hi, Vector256<short> scLo, Vector256<short> scHi, sbyte* q8)
    {
        Vector256<int> pl = Avx2.MultiplyAddAdjacent(scLo, Avx2.MultiplyAddAdjacent(lo, Avx.LoadVector256(q8)));
        Vector256<int> ph = Avx2.MultiplyAddAdjacent(scHi, Avx2.MultiplyAddAdjacent(hi, Avx.LoadVector256(q8 + 32)));
        return Avx2.Add(pl, ph);
    }
}
