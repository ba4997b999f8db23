using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Weft.Core;
using Weft.Core.Quants;
using Weft.Cpu.Quants;

namespace Weft.Cpu.Kernels;

/// <summary>
/// One query of fused attention against one KV head, flash-attention style: a single pass over the keys with an
/// online softmax (running max M, running sum S, rescaled accumulator), so no score row is stored.
/// </summary>
/// <remarks>
/// <para>Effectively computes <c>out = Σ_j softmax_j(s_j) · v_j</c> with <c>s_j = cap(scale · q·k_j) + mask_j</c> where
/// <c>cap(s) = softcap·tanh(s/softcap)</c> when softcap ≠ 0. Keys whose score is -inf are skipped; when every key is
/// masked the output is all zeros (not NaN).</para>
/// <para>Keys and values are F32, F16 or Q8_0 (rows of <c>d</c> contiguous elements, rows <c>stride</c> bytes apart,
/// so a strided view of a KV cache works). For F32/F16 the dot products and accumulation are F32 (the reference
/// converts with <see cref="Fp16.ToFloat(ushort)"/>, the Vector256 path widens eight halves at a time with
/// <see cref="VectorMath.HalfToSingle"/>, both exact), and both use <see cref="MathF.Exp"/> for the softmax
/// weights, so the paths differ only by summation order (relative ~1e-6).</para>
/// <para>Quantized keys follow ggml's CPU <c>flash_attn_ext</c>: the query is converted once to the key type's dot
/// partner (Q8_0 for Q8_0 keys, through <see cref="VecDotKernel.Convert"/>) and the scores are that type's dot
/// products (<see cref="VecDotKernel.Dot"/>: exact integer sums per block), so a Q8_0 cache costs the query's
/// rounding to 8 bits as well as the cache's. Quantized values are dequantized (<c>q·d</c>) and accumulated in F32.
/// Both paths produce bit-identical Q8_0 queries and identical integer block sums; they differ by the order of
/// the per-block float additions.</para>
/// </remarks>
public static unsafe class FlashAttnKernel
{
    /// <summary>Where the keys and values of one KV head live.</summary>
    /// <param name="K">Address of key 0.</param>
    /// <param name="KStride">Bytes between consecutive keys.</param>
    /// <param name="KType">F32, F16 or Q8_0 (d a multiple of 32).</param>
    /// <param name="V">Address of value 0.</param>
    /// <param name="VStride">Bytes between consecutive values.</param>
    /// <param name="VType">F32, F16 or Q8_0 (dv a multiple of 32).</param>
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

    /// <summary>True when <see cref="Query"/> handles keys or values of <paramref name="type"/> with rows of <paramref name="n"/> elements.</summary>
    public static bool SupportsType(DType type, long n) =>
        type is DType.F32 or DType.F16 || (type == DType.Q8_0 && n % QK.Simple == 0);

    private static float Load(nint row, DType type, int i)
    {
        switch (type)
        {
            case DType.F16:
                return Fp16.ToFloat(((ushort*)row)[i]);
            case DType.Q8_0:
            {
                BlockQ8_0* b = (BlockQ8_0*)row + i / QK.Simple;
                return (float)b->D * b->Qs[i % QK.Simple];
            }
            default:
                return ((float*)row)[i];
        }
    }

    // Quantized keys: the query in the key type's dot format, written into caller memory of QueryBytes(d) bytes.
    private static int QueryBytes(DType kType, int d) =>
        kType is DType.F32 or DType.F16 ? 0 : checked((int)VecDot.For(kType).ActRowBytes(d));

    private const int StackQueryBytes = 8192;

    /// <summary>The scalar spec of <see cref="Query"/>.</summary>
    public static void Reference(float* q, int d, in KvHead kv, int nKv, int dv, float* mask, float scale, float softcap, float* output)
    {
        int qBytes = QueryBytes(kv.KType, d);
        byte[]? heap = qBytes > StackQueryBytes ? new byte[qBytes] : null;
        byte* stack = stackalloc byte[heap is null ? qBytes : 0];
        fixed (byte* pinned = heap)
        {
            byte* qk = heap is null ? stack : pinned;
            VecDotKernel dotK = default;
            if (qBytes > 0)
            {
                dotK = VecDot.For(kv.KType, reference: true);
                dotK.Convert(q, qk, d);
            }
            ReferenceCore(q, qk, dotK, d, kv, nKv, dv, mask, scale, softcap, output);
        }
    }

    private static void ReferenceCore(float* q, byte* qk, VecDotKernel dotK, int d, in KvHead kv, int nKv, int dv, float* mask, float scale, float softcap, float* output)
    {
        float m = float.NegativeInfinity, s = 0f;
        new Span<float>(output, dv).Clear();
        for (int j = 0; j < nKv; j++)
        {
            nint k = kv.K + (nint)(j * kv.KStride);
            float dot = 0f;
            if (kv.KType is DType.F32 or DType.F16)
            {
                for (int i = 0; i < d; i++)
                {
                    dot += q[i] * Load(k, kv.KType, i);
                }
            }
            else
            {
                dot = dotK.Dot(d, (byte*)k, qk);
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
        int qBytes = QueryBytes(kv.KType, d);
        byte[]? heap = qBytes > StackQueryBytes ? new byte[qBytes] : null;
        byte* stack = stackalloc byte[heap is null ? qBytes : 0];
        fixed (byte* pinned = heap)
        {
            byte* qk = heap is null ? stack : pinned;
            VecDotKernel dotK = default;
            if (qBytes > 0)
            {
                dotK = VecDot.For(kv.KType);
                dotK.Convert(q, qk, d);
            }
            Vector256Core(q, qk, dotK, d, kv, nKv, dv, mask, scale, softcap, output);
        }
    }

    private static void Vector256Core(float* q, byte* qk, VecDotKernel dotK, int d, in KvHead kv, int nKv, int dv, float* mask, float scale, float softcap, float* output)
    {
        float m = float.NegativeInfinity, s = 0f;
        new Span<float>(output, dv).Clear();
        for (int j = 0; j < nKv; j++)
        {
            nint k = kv.K + (nint)(j * kv.KStride);
            float dot = kv.KType switch
            {
                DType.F16 => DotF16(q, (ushort*)k, d),
                DType.F32 => DotF32(q, (float*)k, d),
                _ => dotK.Dot(d, (byte*)k, qk),
            };
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
            switch (kv.VType)
            {
                case DType.F16:
                    ScaleAddF16(output, ms, vs, (ushort*)v, dv);
                    break;
                case DType.Q8_0:
                    ScaleAddQ8_0(output, ms, vs, (BlockQ8_0*)v, dv);
                    break;
                default:
                    ScaleAddF32(output, ms, vs, (float*)v, dv);
                    break;
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

    // acc = acc·ms + vs·(q·d), one Q8_0 block (32 values) per step: four widenings of eight int8 to float.
    private static void ScaleAddQ8_0(float* acc, float ms, float vs, BlockQ8_0* v, int n)
    {
        Vector256<float> msv = System.Runtime.Intrinsics.Vector256.Create(ms);
        for (int b = 0; b < n / QK.Simple; b++, acc += QK.Simple)
        {
            Vector256<float> dv = System.Runtime.Intrinsics.Vector256.Create(vs * (float)v[b].D);
            sbyte* qs = v[b].Qs;
            for (int i = 0; i < QK.Simple; i += 8)
            {
                Vector256<float> x = Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(qs + i));
                Avx.Store(acc + i, Fma.MultiplyAdd(x, dv, Avx.LoadVector256(acc + i) * msv));
            }
        }
    }
}
