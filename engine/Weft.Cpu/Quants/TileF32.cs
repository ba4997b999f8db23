using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Weft.Cpu.Quants;

/// <summary>
/// Register-tiled F32 matmul kernel for prompt batches (the float weight types: F32 directly, F16/BF16 after
/// <see cref="DecodeF16"/>/<see cref="DecodeBf16"/> widen a panel of up to four weight rows once): up to 4 weight rows ×
/// 4 activation rows are dotted at once with one 8-wide FMA accumulator per pair, so every loaded vector feeds up to
/// four FMAs (llamafile's tinyBLAS shape).
/// </summary>
/// <remarks>
/// Order of summation, the same for every tile shape and position (so results do not depend on tiling or thread
/// count): with W = 8 (AVX2) or 16 (<see cref="Use512"/>), lane j accumulates <c>fma(w[i], x[i], acc_j)</c> for
/// i ≡ j (mod W) over the first <c>k - k % W</c> elements; with W = 16 the upper eight lanes are then added to the
/// lower eight; the lanes are summed as <see cref="QuantSimd.HSum"/> does ((j, j+4) pairs, then (0, 2)(1, 3), then the two);
/// the last <c>k % W</c> products are added in order with fused multiply-adds. <see cref="DotReference"/> is that
/// order in scalar code, and <see cref="Tile"/> is bit-identical to it.
/// </remarks>
public static unsafe class TileF32
{
    /// <summary>
    /// True when the 16-wide AVX-512 kernel runs (AVX-512F hardware and the AVX2 paths on): lanes then cover 16
    /// elements (lane j of the upper half is added to lane j of the lower half before the 8-lane sum).
    /// </summary>
    public static bool Use512 { get; } = CpuFeatures.UseAvx2 && Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>
    /// <c>res[c * 4 + r] = dot(w + r * wStride, x + c * xStride)</c> over <paramref name="k"/> floats, for r below
    /// <paramref name="rows"/> and c below <paramref name="cols"/> (both 1..4); strides in floats.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">rows or cols outside 1..4.</exception>
    public static void Tile(int k, float* w, long wStride, int rows, float* x, long xStride, int cols, float* res)
    {
        if (Use512)
        {
            switch (rows * 8 + cols)
            {
                case 9: Kernel512<Tile1, Tile1>(k, w, wStride, x, xStride, res); return;
                case 10: Kernel512<Tile1, Tile2>(k, w, wStride, x, xStride, res); return;
                case 11: Kernel512<Tile1, Tile3>(k, w, wStride, x, xStride, res); return;
                case 12: Kernel512<Tile1, Tile4>(k, w, wStride, x, xStride, res); return;
                case 17: Kernel512<Tile2, Tile1>(k, w, wStride, x, xStride, res); return;
                case 18: Kernel512<Tile2, Tile2>(k, w, wStride, x, xStride, res); return;
                case 19: Kernel512<Tile2, Tile3>(k, w, wStride, x, xStride, res); return;
                case 20: Kernel512<Tile2, Tile4>(k, w, wStride, x, xStride, res); return;
                case 25: Kernel512<Tile3, Tile1>(k, w, wStride, x, xStride, res); return;
                case 26: Kernel512<Tile3, Tile2>(k, w, wStride, x, xStride, res); return;
                case 27: Kernel512<Tile3, Tile3>(k, w, wStride, x, xStride, res); return;
                case 28: Kernel512<Tile3, Tile4>(k, w, wStride, x, xStride, res); return;
                case 33: Kernel512<Tile4, Tile1>(k, w, wStride, x, xStride, res); return;
                case 34: Kernel512<Tile4, Tile2>(k, w, wStride, x, xStride, res); return;
                case 35: Kernel512<Tile4, Tile3>(k, w, wStride, x, xStride, res); return;
                case 36: Kernel512<Tile4, Tile4>(k, w, wStride, x, xStride, res); return;
            }
        }
        switch (rows * 8 + cols)
        {
            case 9: Kernel<Tile1, Tile1>(k, w, wStride, x, xStride, res); break;
            case 10: Kernel<Tile1, Tile2>(k, w, wStride, x, xStride, res); break;
            case 11: Kernel<Tile1, Tile3>(k, w, wStride, x, xStride, res); break;
            case 12: Kernel<Tile1, Tile4>(k, w, wStride, x, xStride, res); break;
            case 17: Kernel<Tile2, Tile1>(k, w, wStride, x, xStride, res); break;
            case 18: Kernel<Tile2, Tile2>(k, w, wStride, x, xStride, res); break;
            case 19: Kernel<Tile2, Tile3>(k, w, wStride, x, xStride, res); break;
            case 20: Kernel<Tile2, Tile4>(k, w, wStride, x, xStride, res); break;
            case 25: Kernel<Tile3, Tile1>(k, w, wStride, x, xStride, res); break;
            case 26: Kernel<Tile3, Tile2>(k, w, wStride, x, xStride, res); break;
            case 27: Kernel<Tile3, Tile3>(k, w, wStride, x, xStride, res); break;
            case 28: Kernel<Tile3, Tile4>(k, w, wStride, x, xStride, res); break;
            case 33: Kernel<Tile4, Tile1>(k, w, wStride, x, xStride, res); break;
            case 34: Kernel<Tile4, Tile2>(k, w, wStride, x, xStride, res); break;
            case 35: Kernel<Tile4, Tile3>(k, w, wStride, x, xStride, res); break;
            case 36: Kernel<Tile4, Tile4>(k, w, wStride, x, xStride, res); break;
            default: throw new ArgumentOutOfRangeException(nameof(rows), $"Tile shape {rows} x {cols} is outside 1..4 x 1..4.");
        }
    }

    /// <summary>Scalar reference of one dot in the tile's summation order (see the remarks of <see cref="TileF32"/>).</summary>
    public static float DotReference(int k, float* w, float* x)
    {
        float* lanes = stackalloc float[8];
        for (int j = 0; j < 8; j++)
        {
            lanes[j] = 0;
        }
        float* hi = stackalloc float[8];
        for (int j = 0; j < 8; j++)
        {
            hi[j] = 0;
        }
        int i = 0;
        if (Use512)
        {
            for (; i + 16 <= k; i += 16)
            {
                for (int j = 0; j < 8; j++)
                {
                    lanes[j] = MathF.FusedMultiplyAdd(w[i + j], x[i + j], lanes[j]);
                    hi[j] = MathF.FusedMultiplyAdd(w[i + 8 + j], x[i + 8 + j], hi[j]);
                }
            }
            for (int j = 0; j < 8; j++)
            {
                lanes[j] += hi[j];
            }
        }
        else
        {
            for (; i + 8 <= k; i += 8)
            {
                for (int j = 0; j < 8; j++)
                {
                    lanes[j] = MathF.FusedMultiplyAdd(w[i + j], x[i + j], lanes[j]);
                }
            }
        }
        float s = HSumReference(lanes);
        for (; i < k; i++)
        {
            s = MathF.FusedMultiplyAdd(w[i], x[i], s);
        }
        return s;
    }

    /// <summary>Sum of eight lanes in the order of <see cref="QuantSimd.HSum"/>.</summary>
    internal static float HSumReference(float* l)
    {
        float t0 = l[0] + l[4], t1 = l[1] + l[5], t2 = l[2] + l[6], t3 = l[3] + l[7];
        return (t0 + t2) + (t1 + t3);
    }

    /// <summary>
    /// Widens <paramref name="rows"/> F16 rows (<paramref name="stride"/> bytes apart) into F32 rows of
    /// <paramref name="k"/> floats at <paramref name="panel"/>, each times <paramref name="scale"/> (exact, inf/NaN
    /// included, for a power-of-two scale that keeps f16 values in f32 range: the matmul passes 2^-112 to meet
    /// activations scaled by 2^112).
    /// </summary>
    public static void DecodeF16(byte* w, long stride, int rows, int k, float* panel, float scale = 1f)
    {
        Vector256<float> s = Vector256.Create(scale);
        for (int r = 0; r < rows; r++)
        {
            ushort* src = (ushort*)(w + r * stride);
            float* dst = panel + (long)r * k;
            int i = 0;
            for (; i + 8 <= k; i += 8)
            {
                Avx.Store(dst + i, Avx.Multiply(QuantSimd.LoadHalf8(src + i), s));
            }
            for (; i < k; i++)
            {
                dst[i] = QuantSimd.HalfToFloat(src[i]) * scale;
            }
        }
    }

    /// <summary>Widens <paramref name="rows"/> BF16 rows (<paramref name="stride"/> bytes apart) into F32 rows of <paramref name="k"/> floats at <paramref name="panel"/> (exact).</summary>
    public static void DecodeBf16(byte* w, long stride, int rows, int k, float* panel)
    {
        for (int r = 0; r < rows; r++)
        {
            ushort* src = (ushort*)(w + r * stride);
            float* dst = panel + (long)r * k;
            int i = 0;
            for (; i + 8 <= k; i += 8)
            {
                Avx.Store(dst + i, QuantSimd.LoadBf16x8(src + i));
            }
            for (; i < k; i++)
            {
                dst[i] = QuantSimd.Bf16ToFloat(src[i]);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish(Vector256<float> acc, float* w, float* x, int i, int k)
    {
        float s = QuantSimd.HSum(acc);
        for (; i < k; i++)
        {
            s = MathF.FusedMultiplyAdd(w[i], x[i], s);
        }
        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel<TR, TC>(int k, float* w, long wStride, float* x, long xStride, float* res)
        where TR : struct, ITileCount
        where TC : struct, ITileCount
    {
        Vector256<float> a00 = Vector256<float>.Zero, a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00, a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        float* w0 = w, w1 = w + wStride, w2 = w + 2 * wStride, w3 = w + 3 * wStride;
        float* x0 = x, x1 = x + xStride, x2 = x + 2 * xStride, x3 = x + 3 * xStride;
        int i = 0;
        for (; i + 8 <= k; i += 8)
        {
            Vector256<float> vw0 = Avx.LoadVector256(w0 + i);
            Vector256<float> vw1 = TR.N > 1 ? Avx.LoadVector256(w1 + i) : default;
            Vector256<float> vw2 = TR.N > 2 ? Avx.LoadVector256(w2 + i) : default;
            Vector256<float> vw3 = TR.N > 3 ? Avx.LoadVector256(w3 + i) : default;
            Vector256<float> vx0 = Avx.LoadVector256(x0 + i);
            a00 = Fma.MultiplyAdd(vw0, vx0, a00);
            if (TR.N > 1)
            {
                a10 = Fma.MultiplyAdd(vw1, vx0, a10);
            }
            if (TR.N > 2)
            {
                a20 = Fma.MultiplyAdd(vw2, vx0, a20);
            }
            if (TR.N > 3)
            {
                a30 = Fma.MultiplyAdd(vw3, vx0, a30);
            }
            if (TC.N > 1)
            {
                Vector256<float> vx1 = Avx.LoadVector256(x1 + i);
                a01 = Fma.MultiplyAdd(vw0, vx1, a01);
                if (TR.N > 1)
                {
                    a11 = Fma.MultiplyAdd(vw1, vx1, a11);
                }
                if (TR.N > 2)
                {
                    a21 = Fma.MultiplyAdd(vw2, vx1, a21);
                }
                if (TR.N > 3)
                {
                    a31 = Fma.MultiplyAdd(vw3, vx1, a31);
                }
            }
            if (TC.N > 2)
            {
                Vector256<float> vx2 = Avx.LoadVector256(x2 + i);
                a02 = Fma.MultiplyAdd(vw0, vx2, a02);
                if (TR.N > 1)
                {
                    a12 = Fma.MultiplyAdd(vw1, vx2, a12);
                }
                if (TR.N > 2)
                {
                    a22 = Fma.MultiplyAdd(vw2, vx2, a22);
                }
                if (TR.N > 3)
                {
                    a32 = Fma.MultiplyAdd(vw3, vx2, a32);
                }
            }
            if (TC.N > 3)
            {
                Vector256<float> vx3 = Avx.LoadVector256(x3 + i);
                a03 = Fma.MultiplyAdd(vw0, vx3, a03);
                if (TR.N > 1)
                {
                    a13 = Fma.MultiplyAdd(vw1, vx3, a13);
                }
                if (TR.N > 2)
                {
                    a23 = Fma.MultiplyAdd(vw2, vx3, a23);
                }
                if (TR.N > 3)
                {
                    a33 = Fma.MultiplyAdd(vw3, vx3, a33);
                }
            }
        }
        res[0] = Finish(a00, w0, x0, i, k);
        if (TR.N > 1)
        {
            res[1] = Finish(a10, w1, x0, i, k);
        }
        if (TR.N > 2)
        {
            res[2] = Finish(a20, w2, x0, i, k);
        }
        if (TR.N > 3)
        {
            res[3] = Finish(a30, w3, x0, i, k);
        }
        if (TC.N > 1)
        {
            res[4] = Finish(a01, w0, x1, i, k);
        }
        if (TR.N > 1 && TC.N > 1)
        {
            res[5] = Finish(a11, w1, x1, i, k);
        }
        if (TR.N > 2 && TC.N > 1)
        {
            res[6] = Finish(a21, w2, x1, i, k);
        }
        if (TR.N > 3 && TC.N > 1)
        {
            res[7] = Finish(a31, w3, x1, i, k);
        }
        if (TC.N > 2)
        {
            res[8] = Finish(a02, w0, x2, i, k);
        }
        if (TR.N > 1 && TC.N > 2)
        {
            res[9] = Finish(a12, w1, x2, i, k);
        }
        if (TR.N > 2 && TC.N > 2)
        {
            res[10] = Finish(a22, w2, x2, i, k);
        }
        if (TR.N > 3 && TC.N > 2)
        {
            res[11] = Finish(a32, w3, x2, i, k);
        }
        if (TC.N > 3)
        {
            res[12] = Finish(a03, w0, x3, i, k);
        }
        if (TR.N > 1 && TC.N > 3)
        {
            res[13] = Finish(a13, w1, x3, i, k);
        }
        if (TR.N > 2 && TC.N > 3)
        {
            res[14] = Finish(a23, w2, x3, i, k);
        }
        if (TR.N > 3 && TC.N > 3)
        {
            res[15] = Finish(a33, w3, x3, i, k);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512<TR, TC>(int k, float* w, long wStride, float* x, long xStride, float* res)
        where TR : struct, ITileCount
        where TC : struct, ITileCount
    {
        Vector512<float> a00 = Vector512<float>.Zero, a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00, a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        float* w0 = w, w1 = w + wStride, w2 = w + 2 * wStride, w3 = w + 3 * wStride;
        float* x0 = x, x1 = x + xStride, x2 = x + 2 * xStride, x3 = x + 3 * xStride;
        int i = 0;
        for (; i + 16 <= k; i += 16)
        {
            Vector512<float> vw0 = Avx512F.LoadVector512(w0 + i);
            Vector512<float> vw1 = TR.N > 1 ? Avx512F.LoadVector512(w1 + i) : default;
            Vector512<float> vw2 = TR.N > 2 ? Avx512F.LoadVector512(w2 + i) : default;
            Vector512<float> vw3 = TR.N > 3 ? Avx512F.LoadVector512(w3 + i) : default;
            Vector512<float> vx0 = Avx512F.LoadVector512(x0 + i);
            a00 = Avx512F.FusedMultiplyAdd(vw0, vx0, a00);
            if (TR.N > 1)
            {
                a10 = Avx512F.FusedMultiplyAdd(vw1, vx0, a10);
            }
            if (TR.N > 2)
            {
                a20 = Avx512F.FusedMultiplyAdd(vw2, vx0, a20);
            }
            if (TR.N > 3)
            {
                a30 = Avx512F.FusedMultiplyAdd(vw3, vx0, a30);
            }
            if (TC.N > 1)
            {
                Vector512<float> vx1 = Avx512F.LoadVector512(x1 + i);
                a01 = Avx512F.FusedMultiplyAdd(vw0, vx1, a01);
                if (TR.N > 1)
                {
                    a11 = Avx512F.FusedMultiplyAdd(vw1, vx1, a11);
                }
                if (TR.N > 2)
                {
                    a21 = Avx512F.FusedMultiplyAdd(vw2, vx1, a21);
                }
                if (TR.N > 3)
                {
                    a31 = Avx512F.FusedMultiplyAdd(vw3, vx1, a31);
                }
            }
            if (TC.N > 2)
            {
                Vector512<float> vx2 = Avx512F.LoadVector512(x2 + i);
                a02 = Avx512F.FusedMultiplyAdd(vw0, vx2, a02);
                if (TR.N > 1)
                {
                    a12 = Avx512F.FusedMultiplyAdd(vw1, vx2, a12);
                }
                if (TR.N > 2)
                {
                    a22 = Avx512F.FusedMultiplyAdd(vw2, vx2, a22);
                }
                if (TR.N > 3)
                {
                    a32 = Avx512F.FusedMultiplyAdd(vw3, vx2, a32);
                }
            }
            if (TC.N > 3)
            {
                Vector512<float> vx3 = Avx512F.LoadVector512(x3 + i);
                a03 = Avx512F.FusedMultiplyAdd(vw0, vx3, a03);
                if (TR.N > 1)
                {
                    a13 = Avx512F.FusedMultiplyAdd(vw1, vx3, a13);
                }
                if (TR.N > 2)
                {
                    a23 = Avx512F.FusedMultiplyAdd(vw2, vx3, a23);
                }
                if (TR.N > 3)
                {
                    a33 = Avx512F.FusedMultiplyAdd(vw3, vx3, a33);
                }
            }
        }
        res[0] = Finish(Avx.Add(a00.GetLower(), a00.GetUpper()), w0, x0, i, k);
        if (TR.N > 1)
        {
            res[1] = Finish(Avx.Add(a10.GetLower(), a10.GetUpper()), w1, x0, i, k);
        }
        if (TR.N > 2)
        {
            res[2] = Finish(Avx.Add(a20.GetLower(), a20.GetUpper()), w2, x0, i, k);
        }
        if (TR.N > 3)
        {
            res[3] = Finish(Avx.Add(a30.GetLower(), a30.GetUpper()), w3, x0, i, k);
        }
        if (TC.N > 1)
        {
            res[4] = Finish(Avx.Add(a01.GetLower(), a01.GetUpper()), w0, x1, i, k);
        }
        if (TR.N > 1 && TC.N > 1)
        {
            res[5] = Finish(Avx.Add(a11.GetLower(), a11.GetUpper()), w1, x1, i, k);
        }
        if (TR.N > 2 && TC.N > 1)
        {
            res[6] = Finish(Avx.Add(a21.GetLower(), a21.GetUpper()), w2, x1, i, k);
        }
        if (TR.N > 3 && TC.N > 1)
        {
            res[7] = Finish(Avx.Add(a31.GetLower(), a31.GetUpper()), w3, x1, i, k);
        }
        if (TC.N > 2)
        {
            res[8] = Finish(Avx.Add(a02.GetLower(), a02.GetUpper()), w0, x2, i, k);
        }
        if (TR.N > 1 && TC.N > 2)
        {
            res[9] = Finish(Avx.Add(a12.GetLower(), a12.GetUpper()), w1, x2, i, k);
        }
        if (TR.N > 2 && TC.N > 2)
        {
            res[10] = Finish(Avx.Add(a22.GetLower(), a22.GetUpper()), w2, x2, i, k);
        }
        if (TR.N > 3 && TC.N > 2)
        {
            res[11] = Finish(Avx.Add(a32.GetLower(), a32.GetUpper()), w3, x2, i, k);
        }
        if (TC.N > 3)
        {
            res[12] = Finish(Avx.Add(a03.GetLower(), a03.GetUpper()), w0, x3, i, k);
        }
        if (TR.N > 1 && TC.N > 3)
        {
            res[13] = Finish(Avx.Add(a13.GetLower(), a13.GetUpper()), w1, x3, i, k);
        }
        if (TR.N > 2 && TC.N > 3)
        {
            res[14] = Finish(Avx.Add(a23.GetLower(), a23.GetUpper()), w2, x3, i, k);
        }
        if (TR.N > 3 && TC.N > 3)
        {
            res[15] = Finish(Avx.Add(a33.GetLower(), a33.GetUpper()), w3, x3, i, k);
        }
    }
}
