using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Weft.Search.Vectors;

/// <summary>
/// Distance kernels over float vectors and int8 codes: a scalar <c>Reference</c> (the spec), a <c>Vector256</c>
/// path and a dispatcher that picks the SIMD path when the hardware has it and the vector is long enough.
/// Setting the environment variable <c>WEFT_SEARCH_SCALAR=1</c> forces the reference path (for testing).
/// </summary>
/// <remarks>
/// Sums are accumulated in float; the Vector256 path sums in a different order (8 lanes, then a horizontal add),
/// so it agrees with the reference to within float rounding (relative error well under 1e-5 for lengths up to 256),
/// not bit for bit. NaN inputs give NaN.
/// </remarks>
public static unsafe class DistanceKernels
{
    /// <summary>True when the Vector256 paths are used (hardware acceleration and no <c>WEFT_SEARCH_SCALAR=1</c>).</summary>
    public static readonly bool UseVector256 =
        Vector256.IsHardwareAccelerated && Environment.GetEnvironmentVariable("WEFT_SEARCH_SCALAR") != "1";

    // ---------------------------------------------------------------- squared L2

    /// <summary>Squared Euclidean distance: effectively computes <c>sum((a[i] - b[i])^2)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float L2Squared(float* a, float* b, int n) =>
        UseVector256 && n >= Vector256<float>.Count ? L2SquaredVector256(a, b, n) : L2SquaredReference(a, b, n);

    /// <summary>Scalar reference of <see cref="L2Squared(float*, float*, int)"/>.</summary>
    public static float L2SquaredReference(float* a, float* b, int n)
    {
        float s = 0;
        for (int i = 0; i < n; i++)
        {
            float d = a[i] - b[i];
            s += d * d;
        }
        return s;
    }

    /// <summary>Vector256 path of <see cref="L2Squared(float*, float*, int)"/>; the tail is done in scalar code.</summary>
    public static float L2SquaredVector256(float* a, float* b, int n)
    {
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
        int i = 0;
        // Two accumulators hide the FMA latency; 16 floats per iteration.
        for (; i <= n - 16; i += 16)
        {
            Vector256<float> d0 = Vector256.Load(a + i) - Vector256.Load(b + i);
            Vector256<float> d1 = Vector256.Load(a + i + 8) - Vector256.Load(b + i + 8);
            acc0 = Vector256.FusedMultiplyAdd(d0, d0, acc0);
            acc1 = Vector256.FusedMultiplyAdd(d1, d1, acc1);
        }
        if (i <= n - 8)
        {
            Vector256<float> d0 = Vector256.Load(a + i) - Vector256.Load(b + i);
            acc0 = Vector256.FusedMultiplyAdd(d0, d0, acc0);
            i += 8;
        }
        float s = Vector256.Sum(acc0 + acc1);
        for (; i < n; i++)
        {
            float d = a[i] - b[i];
            s += d * d;
        }
        return s;
    }

    // ---------------------------------------------------------------- inner product

    /// <summary>Inner product: effectively computes <c>sum(a[i] * b[i])</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float* a, float* b, int n) =>
        UseVector256 && n >= Vector256<float>.Count ? DotVector256(a, b, n) : DotReference(a, b, n);

    /// <summary>Scalar reference of <see cref="Dot(float*, float*, int)"/>.</summary>
    public static float DotReference(float* a, float* b, int n)
    {
        float s = 0;
        for (int i = 0; i < n; i++)
        {
            s += a[i] * b[i];
        }
        return s;
    }

    /// <summary>Vector256 path of <see cref="Dot(float*, float*, int)"/>.</summary>
    public static float DotVector256(float* a, float* b, int n)
    {
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
        int i = 0;
        for (; i <= n - 16; i += 16)
        {
            acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc0);
            acc1 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i + 8), Vector256.Load(b + i + 8), acc1);
        }
        if (i <= n - 8)
        {
            acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc0);
            i += 8;
        }
        float s = Vector256.Sum(acc0 + acc1);
        for (; i < n; i++)
        {
            s += a[i] * b[i];
        }
        return s;
    }

    // ---------------------------------------------------------------- int8 codes (asymmetric: float query, int8 code)

    /// <summary>
    /// Squared L2 between a float query and an int8 code with one scale: effectively computes
    /// <c>sum((q[i] - scale * c[i])^2)</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float L2SquaredInt8(float* q, sbyte* c, float scale, int n) =>
        UseVector256 && n >= Vector256<float>.Count ? L2SquaredInt8Vector256(q, c, scale, n) : L2SquaredInt8Reference(q, c, scale, n);

    /// <summary>Scalar reference of <see cref="L2SquaredInt8"/>.</summary>
    public static float L2SquaredInt8Reference(float* q, sbyte* c, float scale, int n)
    {
        float s = 0;
        for (int i = 0; i < n; i++)
        {
            float d = q[i] - scale * c[i];
            s += d * d;
        }
        return s;
    }

    /// <summary>Vector256 path of <see cref="L2SquaredInt8"/>.</summary>
    public static float L2SquaredInt8Vector256(float* q, sbyte* c, float scale, int n)
    {
        Vector256<float> acc = Vector256<float>.Zero;
        Vector256<float> vs = Vector256.Create(scale);
        int i = 0;
        for (; i <= n - 8; i += 8)
        {
            Vector256<float> cf = WidenToFloat(c + i);
            Vector256<float> d = Vector256.Load(q + i) - cf * vs;
            acc = Vector256.FusedMultiplyAdd(d, d, acc);
        }
        float s = Vector256.Sum(acc);
        for (; i < n; i++)
        {
            float d = q[i] - scale * c[i];
            s += d * d;
        }
        return s;
    }

    /// <summary>Inner product of a float query and a scaled int8 code: effectively <c>scale * sum(q[i] * c[i])</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float DotInt8(float* q, sbyte* c, float scale, int n) =>
        UseVector256 && n >= Vector256<float>.Count ? DotInt8Vector256(q, c, scale, n) : DotInt8Reference(q, c, scale, n);

    /// <summary>Scalar reference of <see cref="DotInt8"/>.</summary>
    public static float DotInt8Reference(float* q, sbyte* c, float scale, int n)
    {
        float s = 0;
        for (int i = 0; i < n; i++)
        {
            s += q[i] * c[i];
        }
        return s * scale;
    }

    /// <summary>Vector256 path of <see cref="DotInt8"/>.</summary>
    public static float DotInt8Vector256(float* q, sbyte* c, float scale, int n)
    {
        Vector256<float> acc = Vector256<float>.Zero;
        int i = 0;
        for (; i <= n - 8; i += 8)
        {
            acc = Vector256.FusedMultiplyAdd(Vector256.Load(q + i), WidenToFloat(c + i), acc);
        }
        float s = Vector256.Sum(acc);
        for (; i < n; i++)
        {
            s += q[i] * c[i];
        }
        return s * scale;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> WidenToFloat(sbyte* p)
    {
        // 8 int8 -> 8 int32 -> 8 float. (On AVX2 this becomes vpmovsxbd + vcvtdq2ps.)
        Vector128<sbyte> b = Vector128.CreateScalarUnsafe(*(long*)p).AsSByte();
        Vector128<short> w = Vector128.WidenLower(b);
        Vector256<int> d = Vector256.Create(Vector128.WidenLower(w), Vector128.WidenUpper(w));
        return Vector256.ConvertToSingle(d);
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>Scales <paramref name="v"/> to unit L2 norm in place; a zero vector stays zero. Returns the original norm.</summary>
    public static float Normalize(Span<float> v)
    {
        fixed (float* p = v)
        {
            float norm = MathF.Sqrt(Dot(p, p, v.Length));
            if (norm > 0 && float.IsFinite(norm))
            {
                float inv = 1f / norm;
                for (int i = 0; i < v.Length; i++)
                {
                    p[i] *= inv;
                }
            }
            return norm;
        }
    }

    /// <summary>
    /// Quantizes <paramref name="v"/> to int8 codes with one symmetric scale (<c>max|v| / 127</c>) and returns the
    /// scale; <c>v[i] ≈ scale * codes[i]</c> with error at most <c>scale / 2</c> per component.
    /// </summary>
    public static float QuantizeInt8(ReadOnlySpan<float> v, Span<sbyte> codes)
    {
        float max = 0;
        foreach (float x in v)
        {
            max = MathF.Max(max, MathF.Abs(x));
        }
        float scale = max > 0 ? max / 127f : 1f;
        float inv = 1f / scale;
        for (int i = 0; i < v.Length; i++)
        {
            codes[i] = (sbyte)Math.Clamp((int)MathF.Round(v[i] * inv), -127, 127);
        }
        return scale;
    }
}
