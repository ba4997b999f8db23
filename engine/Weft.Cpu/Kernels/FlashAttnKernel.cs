using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Weft.Core;
using Weft.Core.Quants;

namespace Weft.Cpu.Kernels;

/// <summary>
/// One query of fused attention against one KV head, flash-attention style: a single pass over the keys with an
/// online softmax (running max M, running sum S, rescaled accumulator), so no score row is stored.
/// </summary>
/// <remarks>
/// <para>Effectively computes <c>out = Σ_j softmax_j(s_j) · v_j</c> with <c>s_j = cap(scale · q·k_j) + mask_j</c> where
/// <c>cap(s) = softcap·tanh(s/softcap)</c> when softcap ≠ 0. Keys whose score is -inf are skipped; when every key is
/// masked the output is all zeros (not NaN).</para>
/// <para>Keys and values are F32 or F16 (rows of <c>d</c> contiguous elements, rows <c>stride</c> bytes apart, so a
/// strided view of a KV cache works). The dot products and accumulation are F32 (the reference converts with
/// <see cref="Fp16.ToFloat(ushort)"/>, the Vector256 path widens eight halves at a time with
/// <see cref="VectorMath.HalfToSingle"/>, both exact), and both use <see cref="MathF.Exp"/> for the softmax
/// weights, so the paths differ only by summation order (relative ~1e-6).</para>
/// </remarks>
public static unsafe class FlashAttnKernel
{
    /// <summary>Where the keys and values of one KV head live.</summary>
    /// <param name="K">Address of key 0.</param>
    /// <param name="KStride">Bytes between consecutive keys.</param>
    /// <param name="KType">F32 or F16.</param>
    /// <param name="V">Address of value 0.</param>
    /// <param name="VStride">Bytes between consecutive values.</param>
    /// <param name="VType">F32 or F16.</param>
    public readonly record struct KvHead(nint K, long KStride, DType KType, nint V, long VStride, DType VType);

    /// <summary>Computes one (query, head) output with the path chosen at start-up.</summary>
    /// <param name="q">The query (D floats, contiguous).</param>
    /// <param name="d">Query/key length D.</param>
    /// <param name="kv">The KV head.</param>
    /// <param name="nKv">Keys to visit (0..nKv-1; a causal limit is applied by the caller).</param>
    /// <param name="dv">Value length Dv.</param>
    /// <param name="mask">Additive mask row (F32, nKv entries) or null.</param>
    /// <param name="scale">Score scale (usually 1/√D).</param>
    /// <param name="softcap">Logit soft-capping (0 = off).</param>
    /// <param name="output">Dv floats of output (also used as the accumulator).</param>
    public static void Query(float* q, int d, in KvHead kv, int nKv, int dv, float* mask, float scale, float softcap, float* output)
    {
        if (CpuFeatures.UseAvx2)
        {
            Vector256(q, d, kv, nKv, dv, mask, scale, softcap, output);
        }
        else
        {
            Reference(q, d, kv, nKv, dv, mask, scale, softcap, output);
        }
    }

    private static float Load(nint row, DType type, int i) =>
        type == DType.F16 ? Fp16.ToFloat(((ushort*)row)[i]) : ((float*)row)[i];

    /// <summary>The scalar spec of <see cref="Query"/>.</summary>
    public static void Reference(float* q, int d, in KvHead kv, int nKv, int dv, float* mask, float scale, float softcap, float* output)
    {
        float m = float.NegativeInfinity, s = 0f;
        new Span<float>(output, dv).Clear();
        for (int j = 0; j < nKv; j++)
        {
            nint k = kv.K + (nint)(j * kv.KStride);
            float dot = 0f;
            for (int i = 0; i < d; i++)
            {
                dot += q[i] * Load(k, kv.KType, i);
            }
            float score = Score(dot, scale, softcap, mask, j);
            if (score == float.NegativeInfinity)
            {
                continue;
            }
            float ms = 1f, vs;
            if (score > m)
            {
                ms = MathF.Exp(m - score);
                m = score;
                vs = 1f;
            }
            else
            {
                vs = MathF.Exp(score - m);
            }
            nint v = kv.V + (nint)(j * kv.VStride);
            for (int i = 0; i < dv; i++)
            {
                output[i] = output[i] * ms + vs * Load(v, kv.VType, i);
            }
            s = s * ms + vs;
        }
        float inv = s == 0f ? 0f : 1f / s;
        for (int i = 0; i < dv; i++)
        {
            output[i] *= inv;
        }
    }

    private static float Score(float dot, float scale, float softcap, float* mask, int j)
    {
        float score = dot * scale;
        if (softcap != 0f)
        {
            score = softcap * MathF.Tanh(score / softcap);
        }
        return mask is null ? score : score + mask[j];
    }

    /// <summary>The AVX2/FMA path of <see cref="Query"/>.</summary>
    public static void Vector256(float* q, int d, in KvHead kv, int nKv, int dv, float* mask, float scale, float softcap, float* output)
    {
        float m = float.NegativeInfinity, s = 0f;
        new Span<float>(output, dv).Clear();
        for (int j = 0; j < nKv; j++)
        {
            nint k = kv.K + (nint)(j * kv.KStride);
            float dot = kv.KType == DType.F16 ? DotF16(q, (ushort*)k, d) : DotF32(q, (float*)k, d);
            float score = Score(dot, scale, softcap, mask, j);
            if (score == float.NegativeInfinity)
            {
                continue;
            }
            float ms = 1f, vs;
            if (score > m)
            {
                ms = MathF.Exp(m - score);
                m = score;
                vs = 1f;
            }
            else
            {
                vs = MathF.Exp(score - m);
            }
            nint v = kv.V + (nint)(j * kv.VStride);
            if (kv.VType == DType.F16)
            {
                ScaleAddF16(output, ms, vs, (ushort*)v, dv);
            }
            else
            {
                ScaleAddF32(output, ms, vs, (float*)v, dv);
            }
            s = s * ms + vs;
        }
        float inv = s == 0f ? 0f : 1f / s;
        Elementwise.BinaryVector256<MulOperator>(new ReadOnlySpan<float>(output, dv), inv, new Span<float>(output, dv));
    }

    private static float DotF32(float* a, float* b, int n)
    {
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = acc0;
        int i = 0;
        for (; i <= n - 16; i += 16)
        {
            acc0 = Fma.MultiplyAdd(Avx.LoadVector256(a + i), Avx.LoadVector256(b + i), acc0);
            acc1 = Fma.MultiplyAdd(Avx.LoadVector256(a + i + 8), Avx.LoadVector256(b + i + 8), acc1);
        }
        for (; i <= n - 8; i += 8)
        {
            acc0 = Fma.MultiplyAdd(Avx.LoadVector256(a + i), Avx.LoadVector256(b + i), acc0);
        }
        float sum = VectorMath.HorizontalSum(acc0 + acc1);
        for (; i < n; i++)
        {
            sum += a[i] * b[i];
        }
        return sum;
    }

    private static float DotF16(float* a, ushort* b, int n)
    {
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = acc0;
        int i = 0;
        for (; i <= n - 16; i += 16)
        {
            acc0 = Fma.MultiplyAdd(Avx.LoadVector256(a + i), VectorMath.HalfToSingle(b + i), acc0);
            acc1 = Fma.MultiplyAdd(Avx.LoadVector256(a + i + 8), VectorMath.HalfToSingle(b + i + 8), acc1);
        }
        for (; i <= n - 8; i += 8)
        {
            acc0 = Fma.MultiplyAdd(Avx.LoadVector256(a + i), VectorMath.HalfToSingle(b + i), acc0);
        }
        float sum = VectorMath.HorizontalSum(acc0 + acc1);
        for (; i < n; i++)
        {
            sum += a[i] * Fp16.ToFloat(b[i]);
        }
        return sum;
    }

    // acc = acc·ms + vs·v
    private static void ScaleAddF32(float* acc, float ms, float vs, float* v, int n)
    {
        Vector256<float> msv = System.Runtime.Intrinsics.Vector256.Create(ms), vsv = System.Runtime.Intrinsics.Vector256.Create(vs);
        int i = 0;
        for (; i <= n - 8; i += 8)
        {
            Avx.Store(acc + i, Fma.MultiplyAdd(Avx.LoadVector256(v + i), vsv, Avx.LoadVector256(acc + i) * msv));
        }
        for (; i < n; i++)
        {
            acc[i] = acc[i] * ms + vs * v[i];
        }
    }

    private static void ScaleAddF16(float* acc, float ms, float vs, ushort* v, int n)
    {
        Vector256<float> msv = System.Runtime.Intrinsics.Vector256.Create(ms), vsv = System.Runtime.Intrinsics.Vector256.Create(vs);
        int i = 0;
        for (; i <= n - 8; i += 8)
        {
            Avx.Store(acc + i, Fma.MultiplyAdd(VectorMath.HalfToSingle(v + i), vsv, Avx.LoadVector256(acc + i) * msv));
        }
        for (; i < n; i++)
        {
            acc[i] = acc[i] * ms + vs * Fp16.ToFloat(v[i]);
        }
    }
}
