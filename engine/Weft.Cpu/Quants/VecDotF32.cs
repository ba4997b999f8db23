using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Weft.Cpu.Quants;

/// <summary>F32 · F32 dot products (ggml <c>ggml_vec_dot_f32</c>).</summary>
public static unsafe class VecDotF32
{
    /// <summary>Scalar reference: effectively computes <c>sum(x[i] * y[i])</c> for i in [0, n), in float, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Reference(int n, byte* x, byte* y)
    {
        float* a = (float*)x, b = (float*)y;
        float s = 0;
        for (int i = 0; i < n; i++)
        {
            s += a[i] * b[i];
        }
        return s;
    }

    /// <summary>AVX2/FMA path: four independent 8-wide accumulators, then one vector and a scalar tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx2Path(int n, byte* x, byte* y)
    {
        float* a = (float*)x, b = (float*)y;
        Vector256<float> s0 = Vector256<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            s0 = Fma.MultiplyAdd(Avx.LoadVector256(a + i), Avx.LoadVector256(b + i), s0);
            s1 = Fma.MultiplyAdd(Avx.LoadVector256(a + i + 8), Avx.LoadVector256(b + i + 8), s1);
            s2 = Fma.MultiplyAdd(Avx.LoadVector256(a + i + 16), Avx.LoadVector256(b + i + 16), s2);
            s3 = Fma.MultiplyAdd(Avx.LoadVector256(a + i + 24), Avx.LoadVector256(b + i + 24), s3);
        }
        for (; i + 8 <= n; i += 8)
        {
            s0 = Fma.MultiplyAdd(Avx.LoadVector256(a + i), Avx.LoadVector256(b + i), s0);
        }
        float s = QuantSimd.HSum(Avx.Add(Avx.Add(s0, s1), Avx.Add(s2, s3)));
        for (; i < n; i++)
        {
            s += a[i] * b[i];
        }
        return s;
    }
}
