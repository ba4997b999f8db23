using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Weft.Core.Quants;

namespace Weft.Cpu.Quants;

/// <summary>Q5_K weights · Q8_K activations (ggml <c>ggml_vec_dot_q5_K_q8_K</c>).</summary>
public static unsafe class VecDotQ5_K
{
    /// <summary>
    /// Scalar reference: as Q4_K with q = nibble + 16 * bit, where bit j of <c>qh[l]</c> belongs to sub-block j.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Reference(int n, byte* x, byte* y)
    {
        float* ht = QuantSimd.HalfTable;
        int nb = n / QK.K;
        BlockQ5_K* bx = (BlockQ5_K*)x;
        BlockQ8_K* by = (BlockQ8_K*)y;
        float s = 0;
        for (int i = 0; i < nb; i++)
        {
            byte* qs = bx[i].Qs;
            byte* qh = bx[i].Qh;
            sbyte* q8 = by[i].Qs;
            int sumi = 0, summ = 0;
            for (int j = 0; j < 8; j++)
            {
                VecDotQ4_K.ScaleMin(j, bx[i].Scales, out int sc, out int m);
                int shift = (j & 1) * 4;
                byte* q = qs + (j >> 1) * 32;
                int dot = 0;
                for (int l = 0; l < 32; l++)
                {
                    int v = ((q[l] >> shift) & 0x0F) + (((qh[l] >> j) & 1) << 4);
                    dot += v * q8[j * 32 + l];
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

    /// <summary>AVX2 path: the Q4_K scheme with the fifth bit shifted into place per sub-block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx2Path(int n, byte* x, byte* y)
    {
        float* ht = QuantSimd.HalfTable;
        int nb = n / QK.K;
        BlockQ5_K* bx = (BlockQ5_K*)x;
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

            Vector128<short> sc8 = Sse41.ConvertToVector128Int16(scMins);
            Vector256<short> scales = Vector256.Create(sc8, sc8);
            byte* q5 = bx[i].Qs;
            sbyte* q8 = by[i].Qs;
            // Bit 2j (low sub-block) and 2j+1 (high sub-block) of each qh byte give the fifth bits of chunk j.
            Vector256<byte> hbits = Avx.LoadVector256(bx[i].Qh);
            Vector256<int> sumi = Step(q5, q8, hbits, QuantSimd.SpreadScales(scales, 0x0100, 0x0100), QuantSimd.SpreadScales(scales, 0x0302, 0x0302), m4);
            hbits = Avx2.ShiftRightLogical(hbits.AsUInt16(), 2).AsByte();
            sumi = Avx2.Add(sumi, Step(q5 + 32, q8 + 64, hbits, QuantSimd.SpreadScales(scales, 0x0504, 0x0504), QuantSimd.SpreadScales(scales, 0x0706, 0x0706), m4));
            hbits = Avx2.ShiftRightLogical(hbits.AsUInt16(), 2).AsByte();
            sumi = Avx2.Add(sumi, Step(q5 + 64, q8 + 128, hbits, QuantSimd.SpreadScales(scales, 0x0908, 0x0908), QuantSimd.SpreadScales(scales, 0x0B0A, 0x0B0A), m4));
            hbits = Avx2.ShiftRightLogical(hbits.AsUInt16(), 2).AsByte();
            sumi = Avx2.Add(sumi, Step(q5 + 96, q8 + 192, hbits, QuantSimd.SpreadScales(scales, 0x0D0C, 0x0D0C), QuantSimd.SpreadScales(scales, 0x0F0E, 0x0F0E), m4));
            acc = Fma.MultiplyAdd(Vector256.Create(d), Avx.ConvertToVector256Single(sumi), acc);
        }
        return QuantSimd.HSum(acc) - QuantSimd.HSum4(accm);
    }

    // 64 weights: nibbles plus fifth bits (bit 0 of hb for the low sub-block, bit 1 for the high one; the 16-bit
    // shifts of hb by the caller move stray bits only into positions masked off here).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Step(byte* q5, sbyte* q8, Vector256<byte> hb, Vector256<short> scLo, Vector256<short> scHi, Vector256<byte> m4)
    {
        Vector256<byte> bits = Avx.LoadVector256(q5);
        Vector256<byte> h0 = Avx2.ShiftLeftLogical(Avx2.And(hb, Vector256.Create((byte)0x01)).AsUInt16(), 4).AsByte();
        Vector256<byte> h1 = Avx2.ShiftLeftLogical(Avx2.And(hb, Vector256.Create((byte)0x02)).AsUInt16(), 3).AsByte();
        Vector256<byte> lo = Avx2.Or(Avx2.And(bits, m4), h0);
        Vector256<byte> hi = Avx2.Or(Avx2.And(Avx2.ShiftRightLogical(bits.AsUInt16(), 4).AsByte(), m4), h1);
        Vector256<int> pl = Avx2.MultiplyAddAdjacent(scLo, Avx2.MultiplyAddAdjacent(lo, Avx.LoadVector256(q8)));
        Vector256<int> ph = Avx2.MultiplyAddAdjacent(scHi, Avx2.MultiplyAddAdjacent(hi, Avx.LoadVector256(q8 + 32)));
        return Avx2.Add(pl, ph);
    }
}
