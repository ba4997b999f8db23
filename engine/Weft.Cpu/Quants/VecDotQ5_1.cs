using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Weft.Core.Quants;

namespace Weft.Cpu.Quants;

/// <summary>Q5_1 weights · Q8_1 activations (ggml <c>ggml_vec_dot_q5_1_q8_1</c>).</summary>
public static unsafe class VecDotQ5_1
{
    /// <summary>Scalar reference: per block, <c>dx * dy * sum(q_j * y_j) + mx * sy</c>, q_j = nibble | fifth bit &lt;&lt; 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Reference(int n, byte* x, byte* y)
    {
        float* ht = QuantSimd.HalfTable;
        int nb = n / QK.Simple;
        BlockQ5_1* bx = (BlockQ5_1*)x;
        BlockQ8_1* by = (BlockQ8_1*)y;
        float s = 0;
        for (int i = 0; i < nb; i++)
        {
            uint qh = *(uint*)bx[i].Qh;
            int sumi = 0;
            for (int j = 0; j < 16; j++)
            {
                int h0 = (int)((qh >> j) & 1) << 4;
                int h1 = (int)((qh >> (j + 16)) & 1) << 4;
                sumi += ((bx[i].Qs[j] & 0x0F) | h0) * by[i].Qs[j] + ((bx[i].Qs[j] >> 4) | h1) * by[i].Qs[j + 16];
            }
            s += sumi * (QuantSimd.Half(ht, &bx[i].D) * QuantSimd.Half(ht, &by[i].D)) + QuantSimd.Half(ht, &bx[i].M) * QuantSimd.Half(ht, &by[i].S);
        }
        return s;
    }

    /// <summary>AVX2 path: fifth bits spread to byte masks and OR-ed in as 0x10; unsigned values into vpmaddubsw.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx2Path(int n, byte* x, byte* y)
    {
        float* ht = QuantSimd.HalfTable;
        int nb = n / QK.Simple;
        BlockQ5_1* bx = (BlockQ5_1*)x;
        BlockQ8_1* by = (BlockQ8_1*)y;
        Vector256<float> acc = Vector256<float>.Zero;
        Vector256<byte> b10 = Vector256.Create((byte)0x10);
        float summs = 0;
        for (int i = 0; i < nb; i++)
        {
            Vector256<byte> hi = Avx2.And(QuantSimd.BytesFromBits32(*(uint*)bx[i].Qh), b10);
            Vector256<byte> qx = Avx2.Or(QuantSimd.Nibbles32(bx[i].Qs), hi);
            Vector256<int> p = QuantSimd.MulSumU8Pairs(qx, Avx.LoadVector256(by[i].Qs));
            summs += QuantSimd.Half(ht, &bx[i].M) * QuantSimd.Half(ht, &by[i].S);
            acc = Fma.MultiplyAdd(Vector256.Create(QuantSimd.Half(ht, &bx[i].D) * QuantSimd.Half(ht, &by[i].D)), Avx.ConvertToVector256Single(p), acc);
        }
        return QuantSimd.HSum(acc) + summs;
    }
}
