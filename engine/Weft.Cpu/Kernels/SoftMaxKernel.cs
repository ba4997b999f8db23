using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Weft.Cpu.Kernels;

/// <summary>
/// Softmax of one row: <c>y = x·scale + mask</c> over the first <c>valid</c> elements (the rest are causally masked
/// and come out 0), then <c>dst[i] = exp(y[i] - max y) / Σ exp(y - max y)</c>.
/// </summary>
/// <remarks>
/// Elements equal to -inf (from the mask) give 0. A row whose every element is -inf (or with valid = 0) gives all
/// zeros, not NaN. The reference uses <see cref="MathF.Exp"/> and a double sum; the Vector256 path uses
/// <see cref="VectorMath.Exp"/> and an F32 vector sum (relative difference &lt; 2e-6). NaN inputs propagate.
/// </remarks>
public static class SoftMaxKernel
{
    /// <summary>Computes the row with the path chosen at start-up.</summary>
    /// <param name="x">The logits (length n).</param>
    /// <param name="mask">Additive mask of length ≥ n, or empty for none.</param>
    /// <param name="scale">Multiplies x before the mask is added.</param>
    /// <param name="valid">Elements [valid, n) are masked out (causal); pass n for none.</param>
    /// <param name="dst">Output, length ≥ n (may alias x).</param>
    public static void Row(ReadOnlySpan<float> x, ReadOnlySpan<float> mask, float scale, int valid, Span<float> dst)
    {
        if (CpuFeatures.UseAvx2)
        {
            Vector256(x, mask, scale, valid, dst);
        }
        else
        {
            Reference(x, mask, scale, valid, dst);
        }
    }

    /// <summary>The scalar spec of <see cref="Row"/>.</summary>
    public static void Reference(ReadOnlySpan<float> x, ReadOnlySpan<float> mask, float scale, int valid, Span<float> dst)
    {
        int n = x.Length;
        valid = Math.Clamp(valid, 0, n);
        float max = float.NegativeInfinity;
        for (int i = 0; i < valid; i++)
        {
            float y = x[i] * scale + (mask.IsEmpty ? 0f : mask[i]);
            dst[i] = y;
            max = MathF.Max(max, y);
        }
        if (float.IsNegativeInfinity(max))
        {
            dst[..n].Clear();
            return;
        }
        double sum = 0;
        for (int i = 0; i < valid; i++)
        {
            float e = MathF.Exp(dst[i] - max);
            dst[i] = e;
            sum += e;
        }
        float inv = (float)(1.0 / sum);
        for (int i = 0; i < valid; i++)
        {
            dst[i] *= inv;
        }
        dst[valid..n].Clear();
    }

    /// <summary>The AVX2/FMA path of <see cref="Row"/>.</summary>
    public static void Vector256(ReadOnlySpan<float> x, ReadOnlySpan<float> mask, float scale, int valid, Span<float> dst)
    {
        int n = x.Length;
        valid = Math.Clamp(valid, 0, n);
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float mr = ref MemoryMarshal.GetReference(mask);
        ref float dr = ref MemoryMarshal.GetReference(dst);
        bool hasMask = !mask.IsEmpty;
        Vector256<float> sv = System.Runtime.Intrinsics.Vector256.Create(scale);
        Vector256<float> mv = System.Runtime.Intrinsics.Vector256.Create(float.NegativeInfinity);
        int i = 0;
        for (; i <= valid - 8; i += 8)
        {
            Vector256<float> y = System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref xr, (nuint)i) * sv;
            if (hasMask)
            {
                y += System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref mr, (nuint)i);
            }
            y.StoreUnsafe(ref dr, (nuint)i);
            mv = System.Runtime.Intrinsics.Vector256.Max(mv, y);
        }
        float max = VectorMath.HorizontalMax(mv);
        for (; i < valid; i++)
        {
            float y = x[i] * scale + (hasMask ? mask[i] : 0f);
            dst[i] = y;
            max = MathF.Max(max, y);
        }
        if (float.IsNegativeInfinity(max))
        {
            dst[..n].Clear();
            return;
        }
        Vector256<float> maxv = System.Runtime.Intrinsics.Vector256.Create(max);
        Vector256<float> acc = Vector256<float>.Zero;
        i = 0;
        for (; i <= valid - 8; i += 8)
        {
            Vector256<float> e = VectorMath.Exp(System.Runtime.Intrinsics.Vector256.LoadUnsafe(ref dr, (nuint)i) - maxv);
            e.StoreUnsafe(ref dr, (nuint)i);
            acc += e;
        }
        float sum = VectorMath.HorizontalSum(acc);
        for (; i < valid; i++)
        {
            float e = MathF.Exp(dst[i] - max);
            dst[i] = e;
            sum += e;
        }
        Elementwise.BinaryVector256<MulOperator>(dst[..valid], 1f / sum, dst);
        dst[valid..n].Clear();
    }
}
