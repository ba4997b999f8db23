using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Weft.Core.Quants;

namespace Weft.Cpu.Quants;

/// <summary>Q4_1 weights · Q8_1 activations (ggml <c>ggml_vec_dot_q4_1_q8_1</c>).</summary>
public static unsafe class VecDotQ4_1
{
    /// <summary>
    /// Scalar reference: per block, <c>dx * dy * sum(q_j * y_j) + mx * sy</c> (sy = dy * sum(y_j) stored in Q8_1).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Reference(int n, byte* x, byte* y)
    {
        float* ht = QuantSimd.HalfTable;
        int nb = n / QK.Simple;
        BlockQ4_1* bx = (BlockQ4_1*)x;
        BlockQ8_1* by = (BlockQ8_1*)y;
        float s = 0;
        for (int i = 0; i < nb; i++)
        {
            int sumi = 0;
            for (int j = 0; j < 16; j++)
            {
                sumi += (bx[i].Qs[j] & 0x0F) * by[i].Qs[j] + (bx[i].Qs[j] >> 4) * by[i].Qs[j + 16];
            }
            s += sumi * (QuantSimd.Half(ht, &bx[i].D) * QuantSimd.Half(ht, &by[i].D)) + QuantSimd.Half(ht, &bx[i].M) * QuantSimd.Half(ht, &by[i].S);
        }
        return s;
    }

    /// <summary>AVX2 path: unsigned nibbles go straight into vpmaddubsw; the mins term is a scalar per block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx2Path(int n, byte* x, byte* y)
    {
        float* ht = QuantSimd.HalfTable;
        int nb = n / QK.Simple;
        BlockQ4_1* bx = (BlockQ4_1*)x;
        BlockQ8_1* by = (BlockQ8_1*)y;
        Vector256<float> acc = Vector256<float>.Zero;
        float summs = 0;
        for (int i = 0; i < nb; i++)
        {
            Vector256<int> p = QuantSimd.MulSumU8Pairs(QuantSimd.Nibbles32(bx[i].Qs), Avx.LoadVector256(by[i].Qs));
            summs += QuantSimd.Half(ht, &bx[i].M) * QuantSimd.Half(ht, &by[i].S);
            acc = Fma.MultiplyAdd(Vector256.Create(QuantSimd.Half(ht, &bx[i].D) * QuantSimd.Half(ht, &by[i].D)), Avx.ConvertToVector256Single(p), acc);
        }
        return QuantSimd.HSum(acc) + summs;
    }
}
