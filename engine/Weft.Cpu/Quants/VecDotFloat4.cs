using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Weft.Cpu.Quants;

/// <summary>
/// One weight row against four activation rows at once for the float weight types (F32, F16, BF16): each weight
/// vector is loaded and decoded once and feeds four FMAs, which is what makes the prompt case compute-bound on the
/// FMAs rather than on f16 decoding. Results equal four calls of the single-row AVX2 kernels up to the summation
/// order (eight-wide partial sums in a different grouping).
/// </summary>
public static unsafe class VecDotFloat4
{
    private interface IDecoder
    {
        static abstract Vector256<float> Load8(byte* row, int i);
        static abstract float Load1(byte* row, int i);
        /// <summary>True when the row needs the exact single-row kernel (f16 inf/NaN weights).</summary>
        static abstract bool NeedsExact(byte* row, int n);
    }

    private readonly struct F32Decoder : IDecoder
    {
        public static Vector256<float> Load8(byte* row, int i) => Avx.LoadVector256((float*)row + i);
        public static float Load1(byte* row, int i) => ((float*)row)[i];
        public static bool NeedsExact(byte* row, int n) => false;
    }

    private readonly struct Bf16Decoder : IDecoder
    {
        public static Vector256<float> Load8(byte* row, int i) => QuantSimd.LoadBf16x8((ushort*)row + i);
        public static float Load1(byte* row, int i) => QuantSimd.Bf16ToFloat(((ushort*)row)[i]);
        public static bool NeedsExact(byte* row, int n) => false;
    }

    private readonly struct F16Decoder : IDecoder
    {
        // 2^-112 times the weight, against activations scaled by 2^112 (see VecDotF16.Avx2PathF32).
        public static Vector256<float> Load8(byte* row, int i) => QuantSimd.LoadHalf8FiniteScaledDown((ushort*)row + i);
        public static float Load1(byte* row, int i) => QuantSimd.HalfToFloat(((ushort*)row)[i]) * QuantSimd.HalfScaleInverse;

        public static bool NeedsExact(byte* row, int n)
        {
            ushort* a = (ushort*)row;
            Vector256<ushort> hmax = Vector256<ushort>.Zero;
            Vector256<ushort> magnitude = Vector256.Create((ushort)0x7FFF);
            int i = 0;
            for (; i + 16 <= n; i += 16)
            {
                hmax = Avx2.Max(hmax, Avx2.And(Avx.LoadVector256(a + i), magnitude));
            }
            bool special = Vector256.GreaterThanOrEqualAny(hmax, Vector256.Create((ushort)0x7C00));
            for (; i < n; i++)
            {
                special |= (a[i] & 0x7C00) == 0x7C00;
            }
            return special;
        }
    }

    /// <summary>F32 weights: <c>result[c] = dot(x, y + c * yStride)</c> for c in 0..3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void F32(int n, byte* x, byte* y, long yStride, float* result) => Dot4<F32Decoder>(n, x, y, yStride, result, &VecDotF32.Avx2Path);

    /// <summary>F16 weights with f16-rounded F32 activations scaled by 2^112 (<see cref="VecDotF16.Avx2PathF32"/>'s format): <c>result[c] = dot(x, y + c * yStride)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void F16(int n, byte* x, byte* y, long yStride, float* result) => Dot4<F16Decoder>(n, x, y, yStride, result, &VecDotF16.Avx2PathF32);

    /// <summary>BF16 weights with bf16-rounded F32 activations: <c>result[c] = dot(x, y + c * yStride)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BF16(int n, byte* x, byte* y, long yStride, float* result) => Dot4<Bf16Decoder>(n, x, y, yStride, result, &VecDotBF16.Avx2PathF32);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot4<T>(int n, byte* x, byte* y, long yStride, float* result, delegate*<int, byte*, byte*, float> single)
        where T : struct, IDecoder
    {
        if (T.NeedsExact(x, n))
        {
            for (int c = 0; c < 4; c++)
            {
                result[c] = single(n, x, y + c * yStride);
            }
            return;
        }
        float* y0 = (float*)y, y1 = (float*)(y + yStride), y2 = (float*)(y + 2 * yStride), y3 = (float*)(y + 3 * yStride);
        Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int i = 0;
        for (; i + 16 <= n; i += 16)
        {
            Vector256<float> w0 = T.Load8(x, i), w1 = T.Load8(x, i + 8);
            a0 = Fma.MultiplyAdd(w0, Avx.LoadVector256(y0 + i), a0);
            a1 = Fma.MultiplyAdd(w0, Avx.LoadVector256(y1 + i), a1);
            a2 = Fma.MultiplyAdd(w0, Avx.LoadVector256(y2 + i), a2);
            a3 = Fma.MultiplyAdd(w0, Avx.LoadVector256(y3 + i), a3);
            b0 = Fma.MultiplyAdd(w1, Avx.LoadVector256(y0 + i + 8), b0);
            b1 = Fma.MultiplyAdd(w1, Avx.LoadVector256(y1 + i + 8), b1);
            b2 = Fma.MultiplyAdd(w1, Avx.LoadVector256(y2 + i + 8), b2);
            b3 = Fma.MultiplyAdd(w1, Avx.LoadVector256(y3 + i + 8), b3);
        }
        for (; i + 8 <= n; i += 8)
        {
            Vector256<float> w0 = T.Load8(x, i);
            a0 = Fma.MultiplyAdd(w0, Avx.LoadVector256(y0 + i), a0);
            a1 = Fma.MultiplyAdd(w0, Avx.LoadVector256(y1 + i), a1);
            a2 = Fma.MultiplyAdd(w0, Avx.LoadVector256(y2 + i), a2);
            a3 = Fma.MultiplyAdd(w0, Avx.LoadVector256(y3 + i), a3);
        }
        float s0 = QuantSimd.HSum(Avx.Add(a0, b0)), s1 = QuantSimd.HSum(Avx.Add(a1, b1));
        float s2 = QuantSimd.HSum(Avx.Add(a2, b2)), s3 = QuantSimd.HSum(Avx.Add(a3, b3));
        for (; i < n; i++)
        {
            float w = T.Load1(x, i);
            s0 += w * y0[i];
            s1 += w * y1[i];
            s2 += w * y2[i];
            s3 += w * y3[i];
        }
        result[0] = s0;
        result[1] = s1;
        result[2] = s2;
        result[3] = s3;
    }
}
