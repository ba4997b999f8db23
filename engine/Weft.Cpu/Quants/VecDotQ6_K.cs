using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Weft.Core.Quants;

namespace Weft.Cpu.Quants;

/// <summary>Q6_K weights · Q8_K activations (ggml <c>ggml_vec_dot_q6_K_q8_K</c>).</summary>
public static unsafe class VecDotQ6_K
{
    /// <summary>
    /// Scalar reference: per super-block, <c>dy * dx * sum_g(sc_g * sum((q - 32) * y))</c> over 16 groups of 16,
    /// q = 4 low bits from <c>ql</c> | 2 high bits from <c>qh</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Reference(int n, byte* x, byte* y)
    {
        float* ht = QuantSimd.HalfTable;
        int nb = n / QK.K;
        BlockQ6_K* bx = (BlockQ6_K*)x;
        BlockQ8_K* by = (BlockQ8_K*)y;
        int* v = stackalloc int[256];
        float s = 0;
        for (int i = 0; i < nb; i++)
        {
            for (int half = 0; half < 2; half++)
            {
                byte* ql = bx[i].Ql + 64 * half;
                byte* qh = bx[i].Qh + 32 * half;
                int* o = v + 128 * half;
                for (int l = 0; l < 32; l++)
                {
                    o[l] = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
                    o[l + 32] = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
                    o[l + 64] = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                    o[l + 96] = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                }
            }
            int sumi = 0;
            for (int g = 0; g < 16; g++)
            {
                int dot = 0;
                for (int l = 0; l < 16; l++)
                {
                    dot += v[16 * g + l] * by[i].Qs[16 * g + l];
                }
                sumi += bx[i].Scales[g] * dot;
            }
            s += by[i].D * QuantSimd.Half(ht, &bx[i].D) * sumi;
        }
        return s;
    }

    /// <summary>
    /// AVX2 path: unsigned 6-bit values · q8 with vpmaddubsw, scaled per 16 with vpmaddwd; the -32 offset is removed
    /// once per super-block as 32 * sum_g(sc_g * ysum_g) from the Q8_K group sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx2Path(int n, byte* x, byte* y)
    {
        float* ht = QuantSimd.HalfTable;
        int nb = n / QK.K;
        BlockQ6_K* bx = (BlockQ6_K*)x;
        BlockQ8_K* by = (BlockQ8_K*)y;
        Vector256<float> acc = Vector256<float>.Zero;
        for (int i = 0; i < nb; i++)
        {
            float d = by[i].D * QuantSimd.Half(ht, &bx[i].D);
            sbyte* scales = bx[i].Scales;
            Vector256<int> corr = Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(scales), Avx.LoadVector256(by[i].BSums));
            Vector256<int> sumi = Avx2.Subtract(Vector256<int>.Zero, Avx2.ShiftLeftLogical(corr, 5));
            sbyte* q8 = by[i].Qs;
            for (int half = 0; half < 2; half++)
            {
                Unpack6(&bx[i], half, out Vector256<byte> q0, out Vector256<byte> q1, out Vector256<byte> q2, out Vector256<byte> q3);
                sbyte* y8 = q8 + 128 * half;
                Vector128<short> sc8 = Sse41.ConvertToVector128Int16(scales + 8 * half);
                Vector256<short> sc = Vector256.Create(sc8, sc8);
                Vector256<short> p0 = Avx2.MultiplyAddAdjacent(q0, Avx.LoadVector256(y8));
                Vector256<short> p1 = Avx2.MultiplyAddAdjacent(q1, Avx.LoadVector256(y8 + 32));
                Vector256<short> p2 = Avx2.MultiplyAddAdjacent(q2, Avx.LoadVector256(y8 + 64));
                Vector256<short> p3 = Avx2.MultiplyAddAdjacent(q3, Avx.LoadVector256(y8 + 96));
                sumi = Avx2.Add(sumi, Avx2.MultiplyAddAdjacent(QuantSimd.SpreadScales(sc, 0x0100, 0x0302), p0));
                sumi = Avx2.Add(sumi, Avx2.MultiplyAddAdjacent(QuantSimd.SpreadScales(sc, 0x0504, 0x0706), p1));
                sumi = Avx2.Add(sumi, Avx2.MultiplyAddAdjacent(QuantSimd.SpreadScales(sc, 0x0908, 0x0B0A), p2));
                sumi = Avx2.Add(sumi, Avx2.MultiplyAddAdjacent(QuantSimd.SpreadScales(sc, 0x0D0C, 0x0F0E), p3));
            }
            acc = Fma.MultiplyAdd(Vector256.Create(d), Avx.ConvertToVector256Single(sumi), acc);
        }
        return QuantSimd.HSum(acc);
    }

    /// <summary>
    /// The 6-bit values of half <paramref name="half"/> (0 or 1) of a super-block, 0..63 (the -32 offset is applied
    /// through the bsums): q0..q3 hold its four runs of 32 weights.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Unpack6(BlockQ6_K* b, int half, out Vector256<byte> q0, out Vector256<byte> q1, out Vector256<byte> q2, out Vector256<byte> q3)
    {
        Vector256<byte> m4 = Vector256.Create((byte)0x0F), m30 = Vector256.Create((byte)0x30);
        byte* ql = b->Ql + 64 * half;
        Vector256<byte> b1 = Avx.LoadVector256(ql);
        Vector256<byte> b2 = Avx.LoadVector256(ql + 32);
        Vector256<byte> bh = Avx.LoadVector256(b->Qh + 32 * half);
        Vector256<byte> h0 = Avx2.ShiftLeftLogical(Avx2.And(bh, Vector256.Create((byte)0x03)).AsUInt16(), 4).AsByte();
        Vector256<byte> h1 = Avx2.ShiftLeftLogical(Avx2.And(bh, Vector256.Create((byte)0x0C)).AsUInt16(), 2).AsByte();
        Vector256<byte> h2 = Avx2.And(bh, m30);
        Vector256<byte> h3 = Avx2.And(Avx2.ShiftRightLogical(bh.AsUInt16(), 2).AsByte(), m30);
        q0 = Avx2.Or(Avx2.And(b1, m4), h0);
        q1 = Avx2.Or(Avx2.And(b2, m4), h1);
        q2 = Avx2.Or(Avx2.And(Avx2.ShiftRightLogical(b1.AsUInt16(), 4).AsByte(), m4), h2);
        q3 = Avx2.Or(Avx2.And(Avx2.ShiftRightLogical(b2.AsUInt16(), 4).AsByte(), m4), h3);
    }
}
