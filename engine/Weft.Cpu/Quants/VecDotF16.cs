using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Weft.Cpu.Quants;

/// <summary>
/// F16 weight dot products. <see cref="Reference"/>/<see cref="Avx2Path"/> take F16 · F16 as ggml does
/// (<c>ggml_vec_dot_f16</c>); the F32-activation variants take activations already rounded to f16 but stored as
/// f32, which gives the same products while decoding only the weights (no F16C in .NET).
/// </summary>
public static unsafe class VecDotF16
{
    /// <summary>The factor (2^112) the activations of <see cref="Avx2PathF32"/> and the other AVX2 F16 kernels carry.</summary>
    public const float ActivationScale = QuantSimd.HalfScale;

    /// <summary>Scalar reference: effectively computes <c>sum(float(x[i]) * float(y[i]))</c> over f16 inputs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Reference(int n, byte* x, byte* y)
    {
        ushort* a = (ushort*)x, b = (ushort*)y;
        double s = 0; // ggml accumulates f16 dots in ggml_float (double) in the scalar path.
        for (int i = 0; i < n; i++)
        {
            s += (double)QuantSimd.HalfToFloat(a[i]) * QuantSimd.HalfToFloat(b[i]);
        }
        return (float)s;
    }

    /// <summary>AVX2 F16 · F16: both operands decoded eight at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx2Path(int n, byte* x, byte* y)
    {
        ushort* a = (ushort*)x, b = (ushort*)y;
        Vector256<float> s0 = Vector256<float>.Zero, s1 = s0;
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            s0 = Fma.MultiplyAdd(QuantSimd.LoadHalf8(a + i), QuantSimd.LoadHalf8(b + i), s0);
            s1 = Fma.MultiplyAdd(QuantSimd.LoadHalf8(a + i + 8), QuantSimd.LoadHalf8(b + i + 8), s1);
        }
        for (; i + 8 <= n; i += 8)
        {
            s0 = Fma.MultiplyAdd(QuantSimd.LoadHalf8(a + i), QuantSimd.LoadHalf8(b + i), s0);
        }
        float s = QuantSimd.HSum(Avx.Add(s0, s1));
        for (; i < n; i++)
        {
            s += QuantSimd.HalfToFloat(a[i]) * QuantSimd.HalfToFloat(b[i]);
        }
        return s;
    }

    /// <summary>Scalar reference of F16 weights · F32 activations: <c>sum(float(x[i]) * y[i])</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float ReferenceF32(int n, byte* x, byte* y)
    {
        ushort* a = (ushort*)x;
        float* b = (float*)y;
        double s = 0;
        for (int i = 0; i < n; i++)
        {
            s += (double)QuantSimd.HalfToFloat(a[i]) * b[i];
        }
        return (float)s;
    }

    /// <summary>
    /// AVX2 F16 weights · F32 activations scaled by <see cref="ActivationScale"/> (what
    /// <see cref="Kernels.QuantizeActivations.RoundF16ScaledAvx2"/> writes): four 8-wide accumulators over weights
    /// decoded to 2^-112 times their value (<see cref="QuantSimd.LoadHalf8FiniteScaledDown"/>), so every product is the
    /// unscaled product exactly; the largest magnitude bits are tracked and a row holding an inf/NaN weight is
    /// recomputed with the exact decoder.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx2PathF32(int n, byte* x, byte* y) => Fast(n, x, y, checkSpecial: true);

    /// <summary>
    /// <see cref="Avx2PathF32"/> for rows known to hold no inf/NaN weight (see <see cref="FiniteWeights"/>): the same
    /// sum, bit for bit, without tracking the largest magnitude.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Avx2PathF32Finite(int n, byte* x, byte* y) => Fast(n, x, y, checkSpecial: false);

    // The 32-wide loop of both entry points; checkSpecial is a constant at each (inlined) call site.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Fast(int n, byte* x, byte* y, bool checkSpecial)
    {
        ushort* a = (ushort*)x;
        float* b = (float*)y;
        Vector256<float> s0 = Vector256<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
        Vector256<ushort> hmax = Vector256<ushort>.Zero;
        Vector256<ushort> magnitude = Vector256.Create((ushort)0x7FFF);
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            if (checkSpecial)
            {
                hmax = Avx2.Max(hmax, Avx2.Max(Avx2.And(Avx.LoadVector256(a + i), magnitude), Avx2.And(Avx.LoadVector256(a + i + 16), magnitude)));
            }
            s0 = Fma.MultiplyAdd(QuantSimd.LoadHalf8FiniteScaledDown(a + i), Avx.LoadVector256(b + i), s0);
            s1 = Fma.MultiplyAdd(QuantSimd.LoadHalf8FiniteScaledDown(a + i + 8), Avx.LoadVector256(b + i + 8), s1);
            s2 = Fma.MultiplyAdd(QuantSimd.LoadHalf8FiniteScaledDown(a + i + 16), Avx.LoadVector256(b + i + 16), s2);
            s3 = Fma.MultiplyAdd(QuantSimd.LoadHalf8FiniteScaledDown(a + i + 24), Avx.LoadVector256(b + i + 24), s3);
        }
        if (checkSpecial && Vector256.GreaterThanOrEqualAny(hmax, Vector256.Create((ushort)0x7C00)))
        {
            return ExactF32(n, x, y);
        }
        return Finish(n, a, b, i, s0, s1, s2, s3);
    }

    // The exact decoder (inf/NaN kept) scaled by 2^-112 throughout: a row holding inf/NaN weights.
    private static float ExactF32(int n, byte* x, byte* y)
    {
        ushort* a = (ushort*)x;
        float* b = (float*)y;
        Vector256<float> s0 = Vector256<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
        Vector256<float> down = Vector256.Create(QuantSimd.HalfScaleInverse);
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            s0 = Fma.MultiplyAdd(Avx.Multiply(QuantSimd.LoadHalf8(a + i), down), Avx.LoadVector256(b + i), s0);
            s1 = Fma.MultiplyAdd(Avx.Multiply(QuantSimd.LoadHalf8(a + i + 8), down), Avx.LoadVector256(b + i + 8), s1);
            s2 = Fma.MultiplyAdd(Avx.Multiply(QuantSimd.LoadHalf8(a + i + 16), down), Avx.LoadVector256(b + i + 16), s2);
            s3 = Fma.MultiplyAdd(Avx.Multiply(QuantSimd.LoadHalf8(a + i + 24), down), Avx.LoadVector256(b + i + 24), s3);
        }
        return Finish(n, a, b, i, s0, s1, s2, s3);
    }

    // Tail of Avx2PathF32 from element i (exact decoder, scaled down), then the sum of the four accumulators.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish(int n, ushort* a, float* b, int i, Vector256<float> s0, Vector256<float> s1, Vector256<float> s2, Vector256<float> s3)
    {
        Vector256<float> down = Vector256.Create(QuantSimd.HalfScaleInverse);
        for (; i + 8 <= n; i += 8)
        {
            s0 = Fma.MultiplyAdd(Avx.Multiply(QuantSimd.LoadHalf8(a + i), down), Avx.LoadVector256(b + i), s0);
        }
        float s = QuantSimd.HSum(Avx.Add(Avx.Add(s0, s1), Avx.Add(s2, s3)));
        for (; i < n; i++)
        {
            s += QuantSimd.HalfToFloat(a[i]) * QuantSimd.HalfScaleInverse * b[i];
        }
        return s;
    }
}
