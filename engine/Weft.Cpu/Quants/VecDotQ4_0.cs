using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Weft.Core.Quants;

namespace Weft.Cpu.Quants;

/// <summary>Q4_0 weights · Q8_0 activations (ggml <c>ggml_vec_dot_q4_0_q8_0</c>).</summary>
public static unsafe class VecDotQ4_0
{
    /// <summary>
    /// Scalar reference: per block, <c>dx * dy * sum((q_j - 8) * y_j)</c> with exact integer sums, accumulated in float.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Reference(int n, byte* x, byte* y)
    {
        float* ht = QuantSimd.HalfTable;
        int nb = n / QK.Simple;
        BlockQ4_0* bx = (BlockQ4_0*)x;
        BlockQ8_0* by = (BlockQ8_0*)y;
        float s = 0;
        for (int i = 0; i < nb; i++)
        {
            int sumi = 0;
            for (int j = 0; j < 16; j++)
            {
                int v0 = (bx[i].Qs[j] & 0x0F) - 8;
                int v1 = (bx[i].Qs[j] >> 4) - 8;
                sumi += v0 * by[i].Qs[j] + v1 * by[i].Qs[j + 16];
            }
            s += sumi * (QuantSimd.Half(ht, &bx[i].D) * QuantSimd.Half(ht, &by[i].D));
        }
        return s;
    }

    /// <summary>AVX2 path: nibbles widened to signed bytes, multiplied pairwise with vpmaddubsw, two blocks per step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx2Path(int n, byte* x, byte* y)
    {
        float* ht = QuantSimd.HalfTable;
        int nb = n / QK.Simple;
        BlockQ4_0* bx = (BlockQ4_0*)x;
        BlockQ8_0* by = (BlockQ8_0*)y;
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = acc0;
        Vector256<sbyte> off = Vector256.Create((sbyte)8);
        int i = 0;
        for (; i + 2 <= nb; i += 2)
        {
            Vector256<sbyte> qx0 = Avx2.Subtract(QuantSimd.Nibbles32(bx[i].Qs).AsSByte(), off);
            Vector256<sbyte> qx1 = Avx2.Subtract(QuantSimd.Nibbles32(bx[i + 1].Qs).AsSByte(), off);
            Vector256<float> p0 = QuantSimd.MulSumI8PairsFloat(qx0, Avx.LoadVector256(by[i].Qs));
            Vector256<float> p1 = QuantSimd.MulSumI8PairsFloat(qx1, Avx.LoadVector256(by[i + 1].Qs));
            acc0 = Fma.MultiplyAdd(Vector256.Create(QuantSimd.Half(ht, &bx[i].D) * QuantSimd.Half(ht, &by[i].D)), p0, acc0);
            acc1 = Fma.MultiplyAdd(Vector256.Create(QuantSimd.Half(ht, &bx[i + 1].D) * QuantSimd.Half(ht, &by[i + 1].D)), p1, acc1);
        }
        for (; i < nb; i++)
        {
            Vector256<sbyte> qx0 = Avx2.Subtract(QuantSimd.Nibbles32(bx[i].Qs).AsSByte(), off);
            Vector256<float> p0 = QuantSimd.MulSumI8PairsFloat(qx0, Avx.LoadVector256(by[i].Qs));
            acc0 = Fma.MultiplyAdd(Vector256.Create(QuantSimd.Half(ht, &bx[i].D) * QuantSimd.Half(ht, &by[i].D)), p0, acc0);
        }
        return QuantSimd.HSum(Avx.Add(acc0, acc1));
    }
}
