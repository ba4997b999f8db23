using System.Runtime.CompilerServices;
using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Weft.Core.Quants;
using Weft.Cpu.Quants;

namespace Weft.Cpu.Kernels;

/// <summary>
/// Converts F32 activation rows into the dot-product partner format of a weight type: Q8_0, Q8_1, Q8_K, or F32
/// values rounded to f16 / bf16 (ggml converts activations to F16/BF16 for such weights; keeping the rounded values
/// as F32 gives identical products and lets the dot kernels decode only the weights).
/// </summary>
/// <remarks>
/// Each format has a scalar <c>Reference</c> that follows ggml's reference quantizers (<c>quantize_row_q8_0_ref</c>
/// etc.) and an AVX2 path. The AVX2 paths give bit-identical blocks: Q8_0/Q8_1 round half away from zero as
/// <c>roundf</c> does (emulated as truncate + compare, not with <c>vroundps</c>, whose ties-to-even would differ
/// by one step of the int8 grid on exact ties), Q8_K rounds ties to even as ggml's <c>nearest_int</c> does.
/// n must be a multiple of the block size (32 or 256); the caller validates.
/// </remarks>
public static unsafe class QuantizeActivations
{
    /// <summary>Scalar Q8_0: d = max|x| / 127, q = roundf(x / d), d stored as f16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q8_0Reference(float* x, byte* y, int n)
    {
        BlockQ8_0* b = (BlockQ8_0*)y;
        for (int i = 0; i < n / QK.Simple; i++, x += QK.Simple)
        {
            float amax = 0;
            for (int j = 0; j < QK.Simple; j++)
            {
                amax = MathF.Max(amax, MathF.Abs(x[j]));
            }
            float d = amax / 127f;
            float id = d != 0 ? 1f / d : 0f;
            b[i].D = BitConverter.UInt16BitsToHalf(Fp16.ToHalf(d));
            for (int j = 0; j < QK.Simple; j++)
            {
                b[i].Qs[j] = (sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
            }
        }
    }

    /// <summary>Scalar Q8_1: as Q8_0 plus s = d * sum(q) stored as f16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q8_1Reference(float* x, byte* y, int n)
    {
        BlockQ8_1* b = (BlockQ8_1*)y;
        for (int i = 0; i < n / QK.Simple; i++, x += QK.Simple)
        {
            float amax = 0;
            for (int j = 0; j < QK.Simple; j++)
            {
                amax = MathF.Max(amax, MathF.Abs(x[j]));
            }
            float d = amax / 127f;
            float id = d != 0 ? 1f / d : 0f;
            b[i].D = BitConverter.UInt16BitsToHalf(Fp16.ToHalf(d));
            int sum = 0;
            for (int j = 0; j < QK.Simple; j++)
            {
                int q = (int)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
                b[i].Qs[j] = (sbyte)q;
                sum += q;
            }
            b[i].S = BitConverter.UInt16BitsToHalf(Fp16.ToHalf(sum * d));
        }
    }

    /// <summary>
    /// Scalar Q8_K: the signed value of largest magnitude (first one) sets iscale = -127 / max; q = min(127,
    /// nearest_int(iscale * x)); d = 1 / iscale (f32); bsums hold the sums of each 16 values.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q8_KReference(float* x, byte* y, int n)
    {
        BlockQ8_K* b = (BlockQ8_K*)y;
        for (int i = 0; i < n / QK.K; i++, x += QK.K)
        {
            float max = 0, amax = 0;
            for (int j = 0; j < QK.K; j++)
            {
                float ax = MathF.Abs(x[j]);
                if (ax > amax)
                {
                    amax = ax;
                    max = x[j];
                }
            }
            if (amax == 0)
            {
                new Span<byte>(&b[i], sizeof(BlockQ8_K)).Clear();
                continue;
            }
            float iscale = -127f / max;
            for (int j = 0; j < QK.K; j++)
            {
                b[i].Qs[j] = (sbyte)Math.Min(127, (int)MathF.Round(iscale * x[j], MidpointRounding.ToEven));
            }
            for (int g = 0; g < QK.K / 16; g++)
            {
                int s = 0;
                for (int j = 0; j < 16; j++)
                {
                    s += b[i].Qs[g * 16 + j];
                }
                b[i].BSums[g] = (short)s;
            }
            b[i].D = 1 / iscale;
        }
    }

    /// <summary>Scalar: <c>y[i] = float(half(x[i]))</c>, round to nearest even (ggml's F32→F16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RoundF16Reference(float* x, byte* y, int n)
    {
        float* o = (float*)y;
        for (int i = 0; i < n; i++)
        {
            o[i] = QuantSimd.HalfToFloat(Fp16.ToHalf(x[i]));
        }
    }

    /// <summary>Scalar: <c>y[i] = float(bf16(x[i]))</c>, round to nearest even (ggml's F32→BF16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RoundBf16Reference(float* x, byte* y, int n)
    {
        float* o = (float*)y;
        for (int i = 0; i < n; i++)
        {
            o[i] = QuantSimd.Bf16ToFloat(Bf16.FromFloat(x[i]));
        }
    }

    /// <summary>Copies F32 values unchanged (F32 weights take F32 activations).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CopyF32(float* x, byte* y, int n) => Buffer.MemoryCopy(x, y, (long)n * 4, (long)n * 4);

    /// <summary>AVX2 Q8_0, bit-identical to <see cref="Q8_0Reference"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q8_0Avx2(float* x, byte* y, int n)
    {
        BlockQ8_0* b = (BlockQ8_0*)y;
        for (int i = 0; i < n / QK.Simple; i++, x += QK.Simple)
        {
            Quantize32(x, b[i].Qs, out float d, out _);
            b[i].D = BitConverter.UInt16BitsToHalf(Fp16.ToHalf(d));
        }
    }

    /// <summary>AVX2 Q8_1, bit-identical to <see cref="Q8_1Reference"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q8_1Avx2(float* x, byte* y, int n)
    {
        BlockQ8_1* b = (BlockQ8_1*)y;
        for (int i = 0; i < n / QK.Simple; i++, x += QK.Simple)
        {
            Quantize32(x, b[i].Qs, out float d, out int sum);
            b[i].D = BitConverter.UInt16BitsToHalf(Fp16.ToHalf(d));
            b[i].S = BitConverter.UInt16BitsToHalf(Fp16.ToHalf(sum * d));
        }
    }

    private static void Quantize32(float* x, sbyte* qs, out float d, out int sum)
    {
        Vector256<float> abs = Vector256.Create(0x7FFF_FFFF).AsSingle();
        Vector256<float> v0 = Avx.LoadVector256(x), v1 = Avx.LoadVector256(x + 8);
        Vector256<float> v2 = Avx.LoadVector256(x + 16), v3 = Avx.LoadVector256(x + 24);
        Vector256<float> m = Avx.Max(Avx.Max(Avx.And(v0, abs), Avx.And(v1, abs)), Avx.Max(Avx.And(v2, abs), Avx.And(v3, abs)));
        Vector128<float> h = Sse.Max(m.GetLower(), m.GetUpper());
        h = Sse.Max(h, Sse.MoveHighToLow(h, h));
        h = Sse.MaxScalar(h, Sse.Shuffle(h, h, 0x55));
        d = h.ToScalar() / 127f;
        float id = d != 0 ? 1f / d : 0f;
        Vector256<float> vid = Vector256.Create(id);
        Vector256<int> i0 = RoundAway(Avx.Multiply(v0, vid)), i1 = RoundAway(Avx.Multiply(v1, vid));
        Vector256<int> i2 = RoundAway(Avx.Multiply(v2, vid)), i3 = RoundAway(Avx.Multiply(v3, vid));
        sum = Vector256.Sum(Avx2.Add(Avx2.Add(i0, i1), Avx2.Add(i2, i3)));
        StorePacked(i0, i1, i2, i3, qs);
    }

    // roundf: truncate, then step one away from zero when the dropped fraction is at least one half (exact).
    private static Vector256<int> RoundAway(Vector256<float> v)
    {
        Vector256<float> t = Avx.RoundToZero(v);
        Vector256<float> frac = Avx.And(Avx.Subtract(v, t), Vector256.Create(0x7FFF_FFFF).AsSingle());
        Vector256<float> ge = Avx.CompareGreaterThanOrEqual(frac, Vector256.Create(0.5f));
        Vector256<float> step = Avx.Or(Avx.And(v, Vector256.Create(unchecked((int)0x8000_0000)).AsSingle()), Vector256.Create(1f));
        return Avx.ConvertToVector256Int32WithTruncation(Avx.Add(t, Avx.And(ge, step)));
    }

    // Packs 32 int32 (already within int8 range) into 32 bytes in order.
    private static void StorePacked(Vector256<int> i0, Vector256<int> i1, Vector256<int> i2, Vector256<int> i3, sbyte* dst)
    {
        Vector256<short> s01 = Avx2.PackSignedSaturate(i0, i1);
        Vector256<short> s23 = Avx2.PackSignedSaturate(i2, i3);
        Vector256<sbyte> b = Avx2.PackSignedSaturate(s01, s23);
        // The in-lane packs interleave 4-value groups; restore the order.
        b = Avx2.PermuteVar8x32(b.AsInt32(), Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7)).AsSByte();
        Avx.Store(dst, b);
    }

    /// <summary>AVX2 Q8_K, bit-identical to <see cref="Q8_KReference"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q8_KAvx2(float* x, byte* y, int n)
    {
        BlockQ8_K* b = (BlockQ8_K*)y;
        Vector256<float> absMask = Vector256.Create(0x7FFF_FFFF).AsSingle();
        for (int i = 0; i < n / QK.K; i++, x += QK.K)
        {
            Vector256<float> m = Vector256<float>.Zero;
            for (int k = 0; k < QK.K; k += 8)
            {
                m = Avx.Max(m, Avx.And(Avx.LoadVector256(x + k), absMask));
            }
            Vector128<float> h = Sse.Max(m.GetLower(), m.GetUpper());
            h = Sse.Max(h, Sse.MoveHighToLow(h, h));
            h = Sse.MaxScalar(h, Sse.Shuffle(h, h, 0x55));
            float amax = h.ToScalar();
            if (!(amax > 0))
            {
                // All zeros (or NaN, which the reference also never selects as the maximum).
                new Span<byte>(&b[i], sizeof(BlockQ8_K)).Clear();
                continue;
            }
            // The first value of largest magnitude keeps its sign, as the reference scan does.
            Vector256<float> va = Vector256.Create(amax);
            float max = 0;
            for (int k = 0; k < QK.K; k += 8)
            {
                uint mask = (uint)Avx.MoveMask(Avx.CompareEqual(Avx.And(Avx.LoadVector256(x + k), absMask), va));
                if (mask != 0)
                {
                    max = x[k + BitOperations.TrailingZeroCount(mask)];
                    break;
                }
            }
            float iscale = -127f / max;
            Vector256<float> vs = Vector256.Create(iscale);
            Vector256<int> c127 = Vector256.Create(127);
            for (int k = 0; k < QK.K; k += 32)
            {
                Vector256<int> i0 = Avx2.Min(Avx.ConvertToVector256Int32(Avx.RoundToNearestInteger(Avx.Multiply(Avx.LoadVector256(x + k), vs))), c127);
                Vector256<int> i1 = Avx2.Min(Avx.ConvertToVector256Int32(Avx.RoundToNearestInteger(Avx.Multiply(Avx.LoadVector256(x + k + 8), vs))), c127);
                Vector256<int> i2 = Avx2.Min(Avx.ConvertToVector256Int32(Avx.RoundToNearestInteger(Avx.Multiply(Avx.LoadVector256(x + k + 16), vs))), c127);
                Vector256<int> i3 = Avx2.Min(Avx.ConvertToVector256Int32(Avx.RoundToNearestInteger(Avx.Multiply(Avx.LoadVector256(x + k + 24), vs))), c127);
                b[i].BSums[k / 16] = (short)Vector256.Sum(Avx2.Add(i0, i1));
                b[i].BSums[k / 16 + 1] = (short)Vector256.Sum(Avx2.Add(i2, i3));
                StorePacked(i0, i1, i2, i3, b[i].Qs + k);
            }
            b[i].D = 1 / iscale;
        }
    }

    /// <summary>
    /// AVX2 rounding of F32 to f16 precision (ties to even), bit-identical to <see cref="RoundF16Reference"/>: normals
    /// round the mantissa to 10 bits in integer arithmetic, values below 2^-14 round to a multiple of 2^-24 with
    /// <c>vroundps</c> (exact scaling by powers of two); a group of eight holding a magnitude of 65520 or more (f16
    /// overflow), an infinity or a NaN goes through the reference.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RoundF16Avx2(float* x, byte* y, int n)
    {
        float* o = (float*)y;
        int i = 0;
        Vector256<int> absMask = Vector256.Create(0x7FFF_FFFF);
        Vector256<int> bias = Vector256.Create(0x0FFF);
        Vector256<int> one = Vector256.Create(1);
        Vector256<int> keep = Vector256.Create(unchecked((int)0xFFFF_E000));
        Vector256<int> minNormal = Vector256.Create(0x3880_0000); // 2^-14
        Vector256<int> overflow = Vector256.Create(0x477F_F000);  // 65520: rounds to infinity
        Vector256<float> up = Vector256.Create(16777216f), down = Vector256.Create(1f / 16777216f);
        for (; i + 8 <= n; i += 8)
        {
            Vector256<int> u = Avx.LoadVector256((int*)(x + i));
            Vector256<int> a = Avx2.And(u, absMask);
            if (Avx.MoveMask(Avx2.CompareGreaterThan(a, Avx2.Subtract(overflow, one)).AsSingle()) != 0)
            {
                RoundF16Reference(x + i, (byte*)(o + i), 8);
                continue;
            }
            Vector256<int> normal = Avx2.And(Avx2.Add(a, Avx2.Add(bias, Avx2.And(Avx2.ShiftRightLogical(a, 13), one))), keep);
            Vector256<float> tiny = Avx.Multiply(Avx.RoundToNearestInteger(Avx.Multiply(a.AsSingle(), up)), down);
            Vector256<int> isTiny = Avx2.CompareGreaterThan(minNormal, a);
            Vector256<int> r = Avx2.BlendVariable(normal, tiny.AsInt32(), isTiny);
            Avx.Store((int*)(o + i), Avx2.Or(r, Avx2.AndNot(absMask, u)));
        }
        RoundF16Reference(x + i, (byte*)(o + i), n - i);
    }

    /// <summary>
    /// <see cref="RoundF16Avx2"/> times 2^112 (<see cref="VecDotF16.ActivationScale"/>, exact: f16 magnitudes stay below
    /// 2^16, so the products stay finite): the activation format of the AVX2 F16 matmul kernels
    /// (<see cref="VecDotF16.Avx2PathF32"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RoundF16ScaledAvx2(float* x, byte* y, int n)
    {
        RoundF16Avx2(x, y, n);
        float* o = (float*)y;
        Vector256<float> up = Vector256.Create(QuantSimd.HalfScale);
        int i = 0;
        for (; i + 8 <= n; i += 8)
        {
            Avx.Store(o + i, Avx.Multiply(Avx.LoadVector256(o + i), up));
        }
        for (; i < n; i++)
        {
            o[i] *= QuantSimd.HalfScale;
        }
    }

    /// <summary>AVX2 rounding of F32 to bf16 precision (ties to even; NaN kept quiet), bit-identical to the reference.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RoundBf16Avx2(float* x, byte* y, int n)
    {
        float* o = (float*)y;
        int i = 0;
        Vector256<int> bias = Vector256.Create(0x7FFF);
        Vector256<int> one = Vector256.Create(1);
        Vector256<int> hiMask = Vector256.Create(unchecked((int)0xFFFF_0000));
        for (; i + 8 <= n; i += 8)
        {
            Vector256<float> v = Avx.LoadVector256(x + i);
            Vector256<int> u = v.AsInt32();
            Vector256<int> r = Avx2.And(Avx2.Add(u, Avx2.Add(bias, Avx2.And(Avx2.ShiftRightLogical(u, 16), one))), hiMask);
            Vector256<int> nan = Avx2.And(Avx2.Or(u, Vector256.Create(0x0040_0000)), hiMask);
            Vector256<float> isNan = Avx.CompareUnordered(v, v);
            Avx.Store(o + i, Avx.BlendVariable(r.AsSingle(), nan.AsSingle(), isNan));
        }
        RoundBf16Reference(x + i, (byte*)(o + i), n - i);
    }
}
