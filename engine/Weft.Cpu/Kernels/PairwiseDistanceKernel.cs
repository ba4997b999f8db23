using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using Weft.Core;
using V256 = System.Runtime.Intrinsics.Vector256;

namespace Weft.Cpu.Kernels;

/// <summary>
/// Distances of one vector <c>b</c> to a block of vectors <c>a_i</c>: <c>dst[i] = Σ_k (a_i[k] − b[k])²</c>
/// (<see cref="PairwiseMetric.L2Squared"/>) or <c>dst[i] = 1 − Σ_k a_i[k] · b[k]</c> (<see cref="PairwiseMetric.InnerProduct"/>).
/// </summary>
/// <remarks>
/// <para>The reference sums each pair sequentially in F32. The Vector256 path computes four <c>a</c> vectors per pass so
/// each load of <c>b</c> serves four pairs, but keeps, per pair, the summation order of Weft.Search's
/// <c>DistanceKernels.L2SquaredVector256</c>/<c>DotVector256</c>: two 8-lane FMA accumulators over 16 floats per step,
/// one more 8-float step, <c>Vector256.Sum</c> of their sum, then a scalar tail. The CPU op therefore gives the
/// same bits as the search code's SIMD scan, and differs from the reference only by summation order. Vectors shorter
/// than 8 use the reference (as the search code does). NaN inputs give NaN.</para>
/// </remarks>
public static unsafe class PairwiseDistanceKernel
{
    /// <summary>Computes <paramref name="count"/> distances with the path chosen at start-up.</summary>
    /// <param name="a">First vector of the block; vector i starts at <c>a + i * aStride</c>.</param>
    /// <param name="aStride">Floats from one <c>a</c> vector to the next.</param>
    /// <param name="count">Number of <c>a</c> vectors.</param>
    /// <param name="b">The other vector (<paramref name="d"/> floats).</param>
    /// <param name="d">Vector dimension.</param>
    /// <param name="metric">The distance.</param>
    /// <param name="dst">Receives the <paramref name="count"/> distances (contiguous).</param>
    public static void Block(float* a, long aStride, int count, float* b, int d, PairwiseMetric metric, float* dst)
    {
        if (CpuFeatures.UseAvx2 && d >= Vector256<float>.Count)
        {
            Vector256(a, aStride, count, b, d, metric, dst);
        }
        else
        {
            Reference(a, aStride, count, b, d, metric, dst);
        }
    }

    /// <summary>The scalar spec of <see cref="Block"/>.</summary>
    public static void Reference(float* a, long aStride, int count, float* b, int d, PairwiseMetric metric, float* dst)
    {
        for (int i = 0; i < count; i++)
        {
            float* v = a + i * aStride;
            float s = 0;
            if (metric == PairwiseMetric.L2Squared)
            {
                for (int k = 0; k < d; k++)
                {
                    float diff = v[k] - b[k];
                    s += diff * diff;
                }
                dst[i] = s;
            }
            else
            {
                for (int k = 0; k < d; k++)
                {
                    s += v[k] * b[k];
                }
                dst[i] = 1f - s;
            }
        }
    }

    /// <summary>The AVX2/FMA path of <see cref="Block"/> (needs <paramref name="d"/> ≥ 8).</summary>
    public static void Vector256(float* a, long aStride, int count, float* b, int d, PairwiseMetric metric, float* dst)
    {
        int i = 0;
        if (metric == PairwiseMetric.L2Squared)
        {
            for (; i <= count - 4; i += 4)
            {
                float* v = a + i * aStride;
                L2Four(v, v + aStride, v + 2 * aStride, v + 3 * aStride, b, d, dst + i);
            }
            for (; i < count; i++)
            {
                dst[i] = L2One(a + i * aStride, b, d);
            }
        }
        else
        {
            for (; i <= count - 4; i += 4)
            {
                float* v = a + i * aStride;
                DotFour(v, v + aStride, v + 2 * aStride, v + 3 * aStride, b, d, dst + i);
            }
            for (; i < count; i++)
            {
                dst[i] = 1f - DotOne(a + i * aStride, b, d);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Diff(float* v, float* b, int k) => V256.Load(v + k) - V256.Load(b + k);

    private static void L2Four(float* v0, float* v1, float* v2, float* v3, float* b, int d, float* dst)
    {
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default;
        Vector256<float> a20 = default, a21 = default, a30 = default, a31 = default;
        int k = 0;
        for (; k <= d - 16; k += 16)
        {
            Vector256<float> b0 = V256.Load(b + k);
            Vector256<float> b1 = V256.Load(b + k + 8);
            Vector256<float> x0 = V256.Load(v0 + k) - b0, y0 = V256.Load(v0 + k + 8) - b1;
            Vector256<float> x1 = V256.Load(v1 + k) - b0, y1 = V256.Load(v1 + k + 8) - b1;
            Vector256<float> x2 = V256.Load(v2 + k) - b0, y2 = V256.Load(v2 + k + 8) - b1;
            Vector256<float> x3 = V256.Load(v3 + k) - b0, y3 = V256.Load(v3 + k + 8) - b1;
            a00 = V256.FusedMultiplyAdd(x0, x0, a00);
            a01 = V256.FusedMultiplyAdd(y0, y0, a01);
            a10 = V256.FusedMultiplyAdd(x1, x1, a10);
            a11 = V256.FusedMultiplyAdd(y1, y1, a11);
            a20 = V256.FusedMultiplyAdd(x2, x2, a20);
            a21 = V256.FusedMultiplyAdd(y2, y2, a21);
            a30 = V256.FusedMultiplyAdd(x3, x3, a30);
            a31 = V256.FusedMultiplyAdd(y3, y3, a31);
        }
        if (k <= d - 8)
        {
            Vector256<float> x0 = Diff(v0, b, k), x1 = Diff(v1, b, k), x2 = Diff(v2, b, k), x3 = Diff(v3, b, k);
            a00 = V256.FusedMultiplyAdd(x0, x0, a00);
            a10 = V256.FusedMultiplyAdd(x1, x1, a10);
            a20 = V256.FusedMultiplyAdd(x2, x2, a20);
            a30 = V256.FusedMultiplyAdd(x3, x3, a30);
            k += 8;
        }
        float s0 = V256.Sum(a00 + a01), s1 = V256.Sum(a10 + a11);
        float s2 = V256.Sum(a20 + a21), s3 = V256.Sum(a30 + a31);
        for (; k < d; k++)
        {
            float bk = b[k];
            float e0 = v0[k] - bk, e1 = v1[k] - bk, e2 = v2[k] - bk, e3 = v3[k] - bk;
            s0 += e0 * e0;
            s1 += e1 * e1;
            s2 += e2 * e2;
            s3 += e3 * e3;
        }
        dst[0] = s0;
        dst[1] = s1;
        dst[2] = s2;
        dst[3] = s3;
    }

    private static float L2One(float* v, float* b, int d)
    {
        Vector256<float> acc0 = default, acc1 = default;
        int k = 0;
        for (; k <= d - 16; k += 16)
        {
            Vector256<float> x = Diff(v, b, k), y = Diff(v, b, k + 8);
            acc0 = V256.FusedMultiplyAdd(x, x, acc0);
            acc1 = V256.FusedMultiplyAdd(y, y, acc1);
        }
        if (k <= d - 8)
        {
            Vector256<float> x = Diff(v, b, k);
            acc0 = V256.FusedMultiplyAdd(x, x, acc0);
            k += 8;
        }
        float s = V256.Sum(acc0 + acc1);
        for (; k < d; k++)
        {
            float e = v[k] - b[k];
            s += e * e;
        }
        return s;
    }

    private static void DotFour(float* v0, float* v1, float* v2, float* v3, float* b, int d, float* dst)
    {
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default;
        Vector256<float> a20 = default, a21 = default, a30 = default, a31 = default;
        int k = 0;
        for (; k <= d - 16; k += 16)
        {
            Vector256<float> b0 = V256.Load(b + k);
            Vector256<float> b1 = V256.Load(b + k + 8);
            a00 = V256.FusedMultiplyAdd(V256.Load(v0 + k), b0, a00);
            a01 = V256.FusedMultiplyAdd(V256.Load(v0 + k + 8), b1, a01);
            a10 = V256.FusedMultiplyAdd(V256.Load(v1 + k), b0, a10);
            a11 = V256.FusedMultiplyAdd(V256.Load(v1 + k + 8), b1, a11);
            a20 = V256.FusedMultiplyAdd(V256.Load(v2 + k), b0, a20);
            a21 = V256.FusedMultiplyAdd(V256.Load(v2 + k + 8), b1, a21);
            a30 = V256.FusedMultiplyAdd(V256.Load(v3 + k), b0, a30);
            a31 = V256.FusedMultiplyAdd(V256.Load(v3 + k + 8), b1, a31);
        }
        if (k <= d - 8)
        {
            Vector256<float> b0 = V256.Load(b + k);
            a00 = V256.FusedMultiplyAdd(V256.Load(v0 + k), b0, a00);
            a10 = V256.FusedMultiplyAdd(V256.Load(v1 + k), b0, a10);
            a20 = V256.FusedMultiplyAdd(V256.Load(v2 + k), b0, a20);
            a30 = V256.FusedMultiplyAdd(V256.Load(v3 + k), b0, a30);
            k += 8;
        }
        float s0 = V256.Sum(a00 + a01), s1 = V256.Sum(a10 + a11);
        float s2 = V256.Sum(a20 + a21), s3 = V256.Sum(a30 + a31);
        for (; k < d; k++)
        {
            float bk = b[k];
            s0 += v0[k] * bk;
            s1 += v1[k] * bk;
            s2 += v2[k] * bk;
            s3 += v3[k] * bk;
        }
        dst[0] = 1f - s0;
        dst[1] = 1f - s1;
        dst[2] = 1f - s2;
        dst[3] = 1f - s3;
    }

    private static float DotOne(float* v, float* b, int d)
    {
        Vector256<float> acc0 = default, acc1 = default;
        int k = 0;
        for (; k <= d - 16; k += 16)
        {
            acc0 = V256.FusedMultiplyAdd(V256.Load(v + k), V256.Load(b + k), acc0);
            acc1 = V256.FusedMultiplyAdd(V256.Load(v + k + 8), V256.Load(b + k + 8), acc1);
        }
        if (k <= d - 8)
        {
            acc0 = V256.FusedMultiplyAdd(V256.Load(v + k), V256.Load(b + k), acc0);
            k += 8;
        }
        float s = V256.Sum(acc0 + acc1);
        for (; k < d; k++)
        {
            s += v[k] * b[k];
        }
        return s;
    }
}
