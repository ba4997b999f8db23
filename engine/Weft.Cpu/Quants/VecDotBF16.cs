using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Weft.Cpu.Quants;

/// <summary>
/// BF16 weight dot products (<c>ggml_vec_dot_bf16</c>); the F32-activation variants take activations
/// already rounded to bf16 but stored as f32, so only the weights are decoded.
/// (Decoding bf16 is a 16-bit shift.)
/// </summary>
public static unsafe class VecDotBF16
{
    /// <summary>Scalar reference: effectively computes <c>sum(float(x[i]) * float(y[i]))</c> over bf16 inputs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Reference(int n, byte* x, byte* y)
    {
        ushort* a = (ushort*)x, b = (ushort*)y;
        double s = 0; // ggml accumulates bf16 dots in ggml_float (double) in the scalar path.
        for (int i = 0; i < n; i++)
        {
            s += (double)QuantSimd.Bf16ToFloat(a[i]) * QuantSimd.Bf16ToFloat(b[i]);
        }
        return (float)s;
    }

    /// <summary>AVX2 BF16 · BF16: both operands decoded eight at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx2Path(int n, byte* x, byte* y)
    {
        ushort* a = (ushort*)x, b = (ushort*)y;
        Vector256<float> s0 = Vector256<float>.Zero, s1 = s0;
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            s0 = Fma.MultiplyAdd(QuantSimd.LoadBf16x8(a + i), QuantSimd.LoadBf16x8(b + i), s0);
            s1 = Fma.MultiplyAdd(QuantSimd.LoadBf16x8(a + i + 8), QuantSimd.LoadBf16x8(b + i + 8), s1);
        }
        for (; i + 8 <= n; i += 8)
        {
            s0 = Fma.MultiplyAdd(QuantSimd.LoadBf16x8(a + i), QuantSimd.LoadBf16x8(b + i), s0);
        }
        float s = QuantSimd.HSum(Avx.Add(s0, s1));
        for (; i < n; i++)
        {
            s += QuantSimd.Bf16ToFloat(a[i]) * QuantSimd.Bf16ToFloat(b[i]);
        }
        return s;
    }

    /// <summary>Scalar reference of BF16 weights · F32 activations: <c>sum(float(x[i]) * y[i])</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float ReferenceF32(int n, byte* x, byte* y)
    {
        ushort* a = (ushort*)x;
        float* b = (float*)y;
        double s = 0;
        for (int i = 0; i < n; i++)
        {
            s += (double)QuantSimd.Bf16ToFloat(a[i]) * b[i];
        }
        return (float)s;
    }

    /// <summary>AVX2 BF16 weights · F32 activations: four 8-wide accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx2PathF32(int n, byte* x, byte* y)
    {
        ushort* a = (ushort*)x;
        float* b = (float*)y;
        Vector256<float> s0 = Vector256<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            s0 = Fma.MultiplyAdd(QuantSimd.LoadBf16x8(a + i), Avx.LoadVector256(b + i), s0);
            s1 = Fma.MultiplyAdd(QuantSimd.LoadBf16x8(a + i + 8), Avx.LoadVector256(b + i + 8), s1);
            s2 = Fma.MultiplyAdd(QuantSimd.LoadBf16x8(a + i + 16), Avx.LoadVector256(b + i + 16), s2);
            s3 = Fma.MultiplyAdd(QuantSimd.LoadBf16x8(a + i + 24), Avx.LoadVector256(b + i + 24), s3);
        }
        for (; i + 8 <= n; i += 8)
        {
            s0 = Fma.MultiplyAdd(QuantSimd.LoadBf16x8(a + i), Avx.LoadVector256(b + i), s0);
        }
        float s = QuantSimd.HSum(Avx.Add(Avx.Add(s0, s1), Avx.Add(s2, s3)));
        for (; i < n; i++)
        {
            s += QuantSimd.Bf16ToFloat(a[i]) * b[i];
        }
        return s;
    }
}
