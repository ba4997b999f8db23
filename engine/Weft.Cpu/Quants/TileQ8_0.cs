using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Weft.Core;

namespace Weft.Cpu.Quants;

/// <summary>
/// Register-tiled matmul kernel for prompt batches of the weight types that decode to one byte per value with one f16
/// scale per 32 (Q4_0, Q5_0, Q8_0) against Q8_0 activations, on AVX-VNNI: up to 4 weight rows × 4 activation rows per
/// call, each weight block decoded once per tile and each activation block loaded once per tile.
/// </summary>
/// <remarks>
/// The weights are decoded to unsigned bytes <c>u = q + o</c> (offset o = 8, 16, 128) so that one <c>vpdpbusd</c> gives
/// the pair products; the offset is removed exactly through the activation block sum: each of the eight int32 lanes
/// starts at <c>-o * sum(y) / 8</c> (an integer for every o here), precomputed per activation block by
/// <see cref="PrepareAux"/> together with the block scale as f32. Per block and lane j (values 4j..4j+3):
/// <c>acc_j = fma(dx * dy, (float)lane_j, acc_j)</c>; lanes are summed as <see cref="QuantSimd.HSum"/> does.
/// <see cref="DotReference"/> is that order in scalar code; <see cref="Tile"/> is bit-identical to it for every tile
/// shape and position. Integer lane sums are exact, so the result differs from the single-row kernels only by f32
/// rounding of the per-block terms.
/// </remarks>
public static unsafe class TileQ8_0
{
    /// <summary>True when the tiled kernel can run here (AVX-VNNI with AVX2/FMA, scalar not forced).</summary>
    public static bool IsSupported { get; } = CpuFeatures.UseAvx2 && AvxVnni.IsSupported;

    /// <summary>True when <paramref name="weight"/> has this kernel (Q4_0, Q5_0, Q8_0).</summary>
    public static bool Handles(DType weight) => weight is DType.Q4_0 or DType.Q5_0 or DType.Q8_0;

    /// <summary>Bytes of the per-row data <see cref="PrepareAux"/> writes for <paramref name="nb"/> blocks.</summary>
    public static long AuxRowBytes(long nb) => nb * 8;

    /// <summary>
    /// Writes, for each of the <paramref name="nb"/> Q8_0 blocks of one activation row, the scale as f32 and the lane
    /// offset <c>-o * sum(q) / 8</c> of <paramref name="weight"/>'s decoding: <c>float d[nb]</c> then <c>int s[nb]</c>.
    /// </summary>
    public static void PrepareAux(DType weight, byte* y, int nb, byte* aux)
    {
        float* ht = QuantSimd.HalfTable;
        int o8 = Offset(weight) / 8;
        float* d = (float*)aux;
        int* s = (int*)aux + nb;
        for (int i = 0; i < nb; i++)
        {
            byte* b = y + (long)i * 34;
            d[i] = QuantSimd.Half(ht, b);
            int sum = 0;
            for (int j = 0; j < 32; j++)
            {
                sum += ((sbyte*)(b + 2))[j];
            }
            s[i] = -o8 * sum;
        }
    }

    /// <summary>
    /// <c>res[c * 4 + r] = dot(weight row r, activation row c)</c> for r below <paramref name="rows"/> and c below
    /// <paramref name="cols"/> (both 1..4): weight rows <paramref name="wStride"/> bytes apart, Q8_0 activation rows
    /// <paramref name="yStride"/> bytes apart with their <see cref="PrepareAux"/> data <paramref name="auxStride"/> apart.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Shape outside 1..4 × 1..4, or a type without this kernel.</exception>
    public static void Tile(DType weight, int nb, byte* w, long wStride, int rows, byte* y, long yStride, byte* aux, long auxStride, int cols, float* res)
    {
        switch (weight)
        {
            case DType.Q4_0: Dispatch<Q4_0Decoder>(rows, cols, nb, w, wStride, y, yStride, aux, auxStride, res); break;
            case DType.Q5_0: Dispatch<Q5_0Decoder>(rows, cols, nb, w, wStride, y, yStride, aux, auxStride, res); break;
            case DType.Q8_0: Dispatch<Q8_0Decoder>(rows, cols, nb, w, wStride, y, yStride, aux, auxStride, res); break;
            default: throw new ArgumentOutOfRangeException(nameof(weight), $"No tiled Q8_0-activation kernel for {weight}.");
        }
    }

    /// <summary>Scalar reference of one dot (<paramref name="nb"/> blocks) in the tile's order (see the remarks of <see cref="TileQ8_0"/>).</summary>
    public static float DotReference(DType weight, int nb, byte* w, byte* y)
    {
        float* ht = QuantSimd.HalfTable;
        int o = Offset(weight), bb = BlockBytes(weight);
        float* lanes = stackalloc float[8];
        for (int j = 0; j < 8; j++)
        {
            lanes[j] = 0;
        }
        for (int i = 0; i < nb; i++)
        {
            byte* bx = w + (long)i * bb, by = y + (long)i * 34;
            sbyte* q = (sbyte*)(by + 2);
            int sum = 0;
            for (int e = 0; e < 32; e++)
            {
                sum += q[e];
            }
            float scale = QuantSimd.Half(ht, bx) * QuantSimd.Half(ht, by);
            for (int j = 0; j < 8; j++)
            {
                int lane = -o / 8 * sum;
                for (int t = 0; t < 4; t++)
                {
                    int e = 4 * j + t;
                    lane += UnsignedValue(weight, bx, e) * q[e];
                }
                lanes[j] = MathF.FusedMultiplyAdd(scale, lane, lanes[j]);
            }
        }
        return TileF32.HSumReference(lanes);
    }

    // Value e (0..31) of a weight block as the unsigned byte q + o.
    private static int UnsignedValue(DType weight, byte* b, int e) => weight switch
    {
        DType.Q4_0 => e < 16 ? b[2 + e] & 0x0F : b[2 + e - 16] >> 4,
        DType.Q5_0 => (e < 16 ? b[6 + e] & 0x0F : b[6 + e - 16] >> 4) | (int)((*(uint*)(b + 2) >> e) & 1) << 4,
        _ => (byte)(((sbyte*)(b + 2))[e] + 128),
    };

    private static int Offset(DType weight) => weight switch
    {
        DType.Q4_0 => 8,
        DType.Q5_0 => 16,
        DType.Q8_0 => 128,
        _ => throw new ArgumentOutOfRangeException(nameof(weight), $"No tiled Q8_0-activation kernel for {weight}."),
    };

    private static int BlockBytes(DType weight) => weight switch
    {
        DType.Q4_0 => 18,
        DType.Q5_0 => 22,
        _ => 34,
    };

    private interface IDecoder
    {
        static abstract int BlockBytes { get; }
        static abstract Vector256<byte> Load(byte* block);
    }

    private readonly struct Q4_0Decoder : IDecoder
    {
        public static int BlockBytes => 18;
        public static Vector256<byte> Load(byte* block) => QuantSimd.Nibbles32(block + 2);
    }

    private readonly struct Q5_0Decoder : IDecoder
    {
        public static int BlockBytes => 22;
        public static Vector256<byte> Load(byte* block) =>
            Avx2.Or(QuantSimd.Nibbles32(block + 6), Avx2.And(QuantSimd.BytesFromBits32(*(uint*)(block + 2)), Vector256.Create((byte)0x10)));
    }

    private readonly struct Q8_0Decoder : IDecoder
    {
        public static int BlockBytes => 34;
        public static Vector256<byte> Load(byte* block) => Avx2.Xor(Avx.LoadVector256(block + 2), Vector256.Create((byte)0x80));
    }

    private static void Dispatch<TD>(int rows, int cols, int nb, byte* w, long wStride, byte* y, long yStride, byte* aux, long auxStride, float* res)
        where TD : struct, IDecoder
    {
        switch (rows * 8 + cols)
        {
            case 9: Kernel<TD, Tile1, Tile1>(nb, w, wStride, y, yStride, aux, auxStride, res); break;
            case 10: Kernel<TD, Tile1, Tile2>(nb, w, wStride, y, yStride, aux, auxStride, res); break;
            case 11: Kernel<TD, Tile1, Tile3>(nb, w, wStride, y, yStride, aux, auxStride, res); break;
            case 12: Kernel<TD, Tile1, Tile4>(nb, w, wStride, y, yStride, aux, auxStride, res); break;
            case 17: Kernel<TD, Tile2, Tile1>(nb, w, wStride, y, yStride, aux, auxStride, res); break;
            case 18: Kernel<TD, Tile2, Tile2>(nb, w, wStride, y, yStride, aux, auxStride, res); break;
            case 19: Kernel<TD, Tile2, Tile3>(nb, w, wStride, y, yStride, aux, auxStride, res); break;
            case 20: Kernel<TD, Tile2, Tile4>(nb, w, wStride, y, yStride, aux, auxStride, res); break;
            case 25: Kernel<TD, Tile3, Tile1>(nb, w, wStride, y, yStride, aux, auxStride, res); break;
            case 26: Kernel<TD, Tile3, Tile2>(nb, w, wStride, y, yStride, aux, auxStride, res); break;
            case 27: Kernel<TD, Tile3, Tile3>(nb, w, wStride, y, yStride, aux, auxStride, res); break;
            case 28: Kernel<TD, Tile3, Tile4>(nb, w, wStride, y, yStride, aux, auxStride, res); break;
            case 33: Kernel<TD, Tile4, Tile1>(nb, w, wStride, y, yStride, aux, auxStride, res); break;
            case 34: Kernel<TD, Tile4, Tile2>(nb, w, wStride, y, yStride, aux, auxStride, res); break;
            case 35: Kernel<TD, Tile4, Tile3>(nb, w, wStride, y, yStride, aux, auxStride, res); break;
            case 36: Kernel<TD, Tile4, Tile4>(nb, w, wStride, y, yStride, aux, auxStride, res); break;
            default: throw new ArgumentOutOfRangeException(nameof(rows), $"Tile shape {rows} x {cols} is outside 1..4 x 1..4.");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel<TD, TR, TC>(int nb, byte* w, long wStride, byte* y, long yStride, byte* aux, long auxStride, float* res)
        where TD : struct, IDecoder
        where TR : struct, ITileCount
        where TC : struct, ITileCount
    {
        float* ht = QuantSimd.HalfTable;
        Vector256<float> a00 = Vector256<float>.Zero, a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00, a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        byte* y0 = y, y1 = y + yStride, y2 = y + 2 * yStride, y3 = y + 3 * yStride;
        float* d0 = (float*)aux, d1 = (float*)(aux + auxStride), d2 = (float*)(aux + 2 * auxStride), d3 = (float*)(aux + 3 * auxStride);
        int* s0 = (int*)d0 + nb, s1 = (int*)d1 + nb, s2 = (int*)d2 + nb, s3 = (int*)d3 + nb;
        for (int i = 0; i < nb; i++)
        {
            byte* b0 = w + (long)i * TD.BlockBytes;
            Vector256<byte> u0 = TD.Load(b0);
            Vector256<float> dx0 = Vector256.Create(QuantSimd.Half(ht, b0));
            Vector256<byte> u1 = TR.N > 1 ? TD.Load(b0 + 1 * wStride) : default;
            Vector256<float> dx1 = TR.N > 1 ? Vector256.Create(QuantSimd.Half(ht, b0 + 1 * wStride)) : default;
            Vector256<byte> u2 = TR.N > 2 ? TD.Load(b0 + 2 * wStride) : default;
            Vector256<float> dx2 = TR.N > 2 ? Vector256.Create(QuantSimd.Half(ht, b0 + 2 * wStride)) : default;
            Vector256<byte> u3 = TR.N > 3 ? TD.Load(b0 + 3 * wStride) : default;
            Vector256<float> dx3 = TR.N > 3 ? Vector256.Create(QuantSimd.Half(ht, b0 + 3 * wStride)) : default;
            long yo = (long)i * 34 + 2;
            Vector256<sbyte> q0 = Avx.LoadVector256((sbyte*)(y0 + yo));
            Vector256<float> dy0 = Vector256.Create(d0[i]);
            Vector256<int> c0 = Vector256.Create(s0[i]);
            a00 = Fma.MultiplyAdd(Avx.Multiply(dx0, dy0), Avx.ConvertToVector256Single(AvxVnni.MultiplyWideningAndAdd(c0, u0, q0)), a00);
            if (TR.N > 1)
            {
                a10 = Fma.MultiplyAdd(Avx.Multiply(dx1, dy0), Avx.ConvertToVector256Single(AvxVnni.MultiplyWideningAndAdd(c0, u1, q0)), a10);
            }
            if (TR.N > 2)
            {
                a20 = Fma.MultiplyAdd(Avx.Multiply(dx2, dy0), Avx.ConvertToVector256Single(AvxVnni.MultiplyWideningAndAdd(c0, u2, q0)), a20);
            }
            if (TR.N > 3)
            {
                a30 = Fma.MultiplyAdd(Avx.Multiply(dx3, dy0), Avx.ConvertToVector256Single(AvxVnni.MultiplyWideningAndAdd(c0, u3, q0)), a30);
            }
            if (TC.N > 1)
            {
                Vector256<sbyte> q1 = Avx.LoadVector256((sbyte*)(y1 + yo));
                Vector256<float> dy1 = Vector256.Create(d1[i]);
                Vector256<int> c1 = Vector256.Create(s1[i]);
                a01 = Fma.MultiplyAdd(Avx.Multiply(dx0, dy1), Avx.ConvertToVector256Single(AvxVnni.MultiplyWideningAndAdd(c1, u0, q1)), a01);
                if (TR.N > 1)
                {
                    a11 = Fma.MultiplyAdd(Avx.Multiply(dx1, dy1), Avx.ConvertToVector256Single(AvxVnni.MultiplyWideningAndAdd(c1, u1, q1)), a11);
                }
                if (TR.N > 2)
                {
                    a21 = Fma.MultiplyAdd(Avx.Multiply(dx2, dy1), Avx.ConvertToVector256Single(AvxVnni.MultiplyWideningAndAdd(c1, u2, q1)), a21);
                }
                if (TR.N > 3)
                {
                    a31 = Fma.MultiplyAdd(Avx.Multiply(dx3, dy1), Avx.ConvertToVector256Single(AvxVnni.MultiplyWideningAndAdd(c1, u3, q1)), a31);
                }
            }
            if (TC.N > 2)
            {
                Vector256<sbyte> q2 = Avx.LoadVector256((sbyte*)(y2 + yo));
                Vector256<float> dy2 = Vector256.Create(d2[i]);
                Vector256<int> c2 = Vector256.Create(s2[i]);
                a02 = Fma.MultiplyAdd(Avx.Multiply(dx0, dy2), Avx.ConvertToVector256Single(AvxVnni.MultiplyWideningAndAdd(c2, u0, q2)), a02);
                if (TR.N > 1)
                {
                    a12 = Fma.MultiplyAdd(Avx.Multiply(dx1, dy2), Avx.ConvertToVector256Single(AvxVnni.MultiplyWideningAndAdd(c2, u1, q2)), a12);
                }
                if (TR.N > 2)
                {
                    a22 = Fma.MultiplyAdd(Avx.Multiply(dx2, dy2), Avx.ConvertToVector256Single(AvxVnni.MultiplyWideningAndAdd(c2, u2, q2)), a22);
                }
                if (TR.N > 3)
                {
                    a32 = Fma.MultiplyAdd(Avx.Multiply(dx3, dy2), Avx.ConvertToVector256Single(AvxVnni.MultiplyWideningAndAdd(c2, u3, q2)), a32);
                }
            }
            if (TC.N > 3)
            {
                Vector256<sbyte> q3 = Avx.LoadVector256((sbyte*)(y3 + yo));
                Vector256<float> dy3 = Vector256.Create(d3[i]);
                Vector256<int> c3 = Vector256.Create(s3[i]);
                a03 = Fma.MultiplyAdd(Avx.Multiply(dx0, dy3), Avx.ConvertToVector256Single(AvxVnni.MultiplyWideningAndAdd(c3, u0, q3)), a03);
                if (TR.N > 1)
                {
                    a13 = Fma.MultiplyAdd(Avx.Multiply(dx1, dy3), Avx.ConvertToVector256Single(AvxVnni.MultiplyWideningAndAdd(c3, u1, q3)), a13);
                }
                if (TR.N > 2)
                {
                    a23 = Fma.MultiplyAdd(Avx.Multiply(dx2, dy3), Avx.ConvertToVector256Single(AvxVnni.MultiplyWideningAndAdd(c3, u2, q3)), a23);
                }
                if (TR.N > 3)
                {
                    a33 = Fma.MultiplyAdd(Avx.Multiply(dx3, dy3), Avx.ConvertToVector256Single(AvxVnni.MultiplyWideningAndAdd(c3, u3, q3)), a33);
                }
            }
        }
        res[0] = QuantSimd.HSum(a00);
        if (TR.N > 1)
        {
            res[1] = QuantSimd.HSum(a10);
        }
        if (TR.N > 2)
        {
            res[2] = QuantSimd.HSum(a20);
        }
        if (TR.N > 3)
        {
            res[3] = QuantSimd.HSum(a30);
        }
        if (TC.N > 1)
        {
            res[4] = QuantSimd.HSum(a01);
        }
        if (TR.N > 1 && TC.N > 1)
        {
            res[5] = QuantSimd.HSum(a11);
        }
        if (TR.N > 2 && TC.N > 1)
        {
            res[6] = QuantSimd.HSum(a21);
        }
        if (TR.N > 3 && TC.N > 1)
        {
            res[7] = QuantSimd.HSum(a31);
        }
        if (TC.N > 2)
        {
            res[8] = QuantSimd.HSum(a02);
        }
        if (TR.N > 1 && TC.N > 2)
        {
            res[9] = QuantSimd.HSum(a12);
        }
        if (TR.N > 2 && TC.N > 2)
        {
            res[10] = QuantSimd.HSum(a22);
        }
        if (TR.N > 3 && TC.N > 2)
        {
            res[11] = QuantSimd.HSum(a32);
        }
        if (TC.N > 3)
        {
            res[12] = QuantSimd.HSum(a03);
        }
        if (TR.N > 1 && TC.N > 3)
        {
            res[13] = QuantSimd.HSum(a13);
        }
        if (TR.N > 2 && TC.N > 3)
        {
            res[14] = QuantSimd.HSum(a23);
        }
        if (TR.N > 3 && TC.N > 3)
        {
            res[15] = QuantSimd.HSum(a33);
        }
    }
}
