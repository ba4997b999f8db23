using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Weft.Core.Quants;

namespace Weft.Cpu.Quants;

/// <summary>
/// One weight row against four Q8_0 activation rows for the weight types whose values decode to signed bytes
/// with one f16 scale per 32 (Q4_0, Q5_0, Q8_0): each weight block is loaded, decoded and sign-split once and
/// serves four columns (the prompt case). Integer block sums are exact, so results equal the single-row kernels
/// up to f32 summation order.
/// </summary>
public static unsafe class VecDotQ8_0x4
{
    private interface IDecoder
    {
        static abstract int BlockBytes { get; }
        static abstract Vector256<sbyte> Load(byte* block);
    }

    private readonly struct Q4_0Decoder : IDecoder
    {
        public static int BlockBytes => 18;
        public static Vector256<sbyte> Load(byte* block) =>
            Avx2.Subtract(QuantSimd.Nibbles32(block + 2).AsSByte(), Vector256.Create((sbyte)8));
    }

    private readonly struct Q5_0Decoder : IDecoder
    {
        public static int BlockBytes => 22;
        public static Vector256<sbyte> Load(byte* block)
        {
            Vector256<byte> hi = Avx2.AndNot(QuantSimd.BytesFromBits32(*(uint*)(block + 2)), Vector256.Create((byte)0xF0));
            return Avx2.Or(QuantSimd.Nibbles32(block + 6), hi).AsSByte();
        }
    }

    private readonly struct Q8_0Decoder : IDecoder
    {
        public static int BlockBytes => 34;
        public static Vector256<sbyte> Load(byte* block) => Avx.LoadVector256((sbyte*)(block + 2));
    }

    /// <summary>Q4_0 weights: <c>result[c] = dot(x, y + c * yStride)</c> for c in 0..3 (Q8_0 activations).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q4_0(int n, byte* x, byte* y, long yStride, float* result) => Dot4<Q4_0Decoder>(n, x, y, yStride, result);

    /// <summary>Q5_0 weights: <c>result[c] = dot(x, y + c * yStride)</c> for c in 0..3 (Q8_0 activations).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q5_0(int n, byte* x, byte* y, long yStride, float* result) => Dot4<Q5_0Decoder>(n, x, y, yStride, result);

    /// <summary>Q8_0 weights: <c>result[c] = dot(x, y + c * yStride)</c> for c in 0..3 (Q8_0 activations).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Q8_0(int n, byte* x, byte* y, long yStride, float* result) => Dot4<Q8_0Decoder>(n, x, y, yStride, result);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot4<T>(int n, byte* x, byte* y, long yStride, float* result) where T : struct, IDecoder
    {
        float* ht = QuantSimd.HalfTable;
        int nb = n / QK.Simple;
        BlockQ8_0* y0 = (BlockQ8_0*)y, y1 = (BlockQ8_0*)(y + yStride), y2 = (BlockQ8_0*)(y + 2 * yStride), y3 = (BlockQ8_0*)(y + 3 * yStride);
        Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
        Vector256<short> ones = Vector256.Create((short)1);
        for (int i = 0; i < nb; i++)
        {
            byte* bx = x + i * T.BlockBytes;
            Vector256<sbyte> qx = T.Load(bx);
            Vector256<byte> ax = Avx2.Sign(qx, qx).AsByte();
            float dx = QuantSimd.Half(ht, bx);
            a0 = Fma.MultiplyAdd(Vector256.Create(dx * QuantSimd.Half(ht, &y0[i].D)),
                Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(ax, Avx2.Sign(Avx.LoadVector256(y0[i].Qs), qx)), ones)), a0);
            a1 = Fma.MultiplyAdd(Vector256.Create(dx * QuantSimd.Half(ht, &y1[i].D)),
                Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(ax, Avx2.Sign(Avx.LoadVector256(y1[i].Qs), qx)), ones)), a1);
            a2 = Fma.MultiplyAdd(Vector256.Create(dx * QuantSimd.Half(ht, &y2[i].D)),
                Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(ax, Avx2.Sign(Avx.LoadVector256(y2[i].Qs), qx)), ones)), a2);
            a3 = Fma.MultiplyAdd(Vector256.Create(dx * QuantSimd.Half(ht, &y3[i].D)),
                Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(ax, Avx2.Sign(Avx.LoadVector256(y3[i].Qs), qx)), ones)), a3);
        }
        result[0] = QuantSimd.HSum(a0);
        result[1] = QuantSimd.HSum(a1);
        result[2] = QuantSimd.HSum(a2);
        result[3] = QuantSimd.HSum(a3);
    }
}
