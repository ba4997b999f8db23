using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Weft.Core.Quants;

namespace Weft.Cpu.Quants;

/// <summary>Q5_0 weights · Q8_0 activations (ggml <c>ggml_vec_dot_q5_0_q8_0</c>).</summary>
public static unsafe class VecDotQ5_0
{
    /// <summary>Scalar reference: per block, <c>dx * dy * sum((q_j - 16) * y_j)</c>, q_j = nibble | fifth bit &lt;&lt; 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Reference(int n, byte* x, byte* y)
    {
        float* ht = QuantSimd.HalfTable;
        int nb = n / QK.Simple;
        BlockQ5_0* bx = (BlockQ5_0*)x;
        BlockQ8_0* by = (BlockQ8_0*)y;
        float s = 0;
        for (int i = 0; i < nb; i++)
        {
            uint qh = *(uint*)bx[i].Qh;
            int sumi = 0;
            for (int j = 0; j < 16; j++)
            {
                int h0 = (int)((qh >> j) & 1) << 4;
                int h1 = (int)((qh >> (j + 16)) & 1) << 4;
                int v0 = ((bx[i].Qs[j] & 0x0F) | h0) - 16;
                int v1 = ((bx[i].Qs[j] >> 4) | h1) - 16;
                sumi += v0 * by[i].Qs[j] + v1 * by[i].Qs[j + 16];
            }
            s += sumi * (QuantSimd.Half(ht, &bx[i].D) * QuantSimd.Half(ht, &by[i].D));
        }
        return s;
    }

    /// <summary>AVX2 path: fifth bits spread to byte masks; a clear bit turns the nibble into nibble - 16 (OR 0xF0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx2Path(int n, byte* x, byte* y)
    {
        float* ht = QuantSimd.HalfTable;
        int nb = n / QK.Simple;
        BlockQ5_0* bx = (BlockQ5_0*)x;
        BlockQ8_0* by = (BlockQ8_0*)y;
        Vector256<float> acc = Vector256<float>.Zero;
        Vector256<byte> f0 = Vector256.Create((byte)0xF0);
        for (int i = 0; i < nb; i++)
        {
            Vector256<byte> hi = Avx2.AndNot(QuantSimd.BytesFromBits32(*(uint*)bx[i].Qh), f0);
            Vector256<sbyte> qx = Avx2.Or(QuantSimd.Nibbles32(bx[i].Qs), hi).AsSByte();
            Vector256<float> p = QuantSimd.MulSumI8PairsFloat(qx, Avx.LoadVector256(by[i].Qs));
            acc = Fma.MultiplyAdd(Vector256.Create(QuantSimd.Half(ht, &bx[i].D) * QuantSimd.Half(ht, &by[i].D)), p, acc);
        }
        return QuantSimd.HSum(acc);
    }
}
