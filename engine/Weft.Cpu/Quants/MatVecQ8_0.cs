using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Weft.Core;

namespace Weft.Cpu.Quants;

/// <summary>
/// Matrix-vector kernel (decode: one activation row) for the weight types with one f16 scale per 32 values
/// (Q4_0, Q5_0, Q8_0) against Q8_0 activations, on AVX2: up to 8 weight rows per call.
/// </summary>
/// <remarks>
/// <para>Q4_0 and Q5_0, two rows per register.</para>
/// A weight block of these types holds values 0..15 in the low nibbles of its 16 bytes and 16..31 in the high ones.
/// One 256-bit register takes the 16 bytes of row A in its lower half and those of row B in its upper half, so one
/// shift and two masks unpack two rows, and the activation block's first and second 16 bytes are broadcast to both
/// halves. The weights stay unsigned (<c>u = q + o</c>, o = 8 or 16), which <c>vpmaddubsw</c> (or <c>vpdpbusd</c>
/// with AVX-VNNI) takes directly; the offset is removed exactly by starting each int32 lane at
/// <c>-o * (sum of the activation values it covers)</c>, precomputed once per activation row by
/// <see cref="PrepareAux"/>. Lane j (0..3) of a row covers values 4j..4j+3 and 16+4j..16+4j+3. Per block and lane:
/// <c>acc_j = fma(dx * dy, (float)lane_j, acc_j)</c>; a row's result is <c>(acc_0 + acc_1) + (acc_2 + acc_3)</c>.
/// <see cref="DotReference"/> is that order in scalar code; <see cref="Rows"/> is bit-identical to it for every row
/// count and with or without AVX-VNNI (the integer lane sums are exact: |lane| ≤ 8·31·128).
/// <para>Q8_0, one row per register: lane j (0..7) covers values 4j..4j+3. With AVX-VNNI the weights are made
/// unsigned by flipping their sign bit (<c>u = q + 128</c>) and the lanes start at <c>-128 * sum</c>; without it,
/// <c>vpmaddubsw</c> takes |q| against the activations carrying q's sign (activations within ±127, as Q8_0
/// quantization writes them). A row's result is <c>((acc_0 + acc_1) + (acc_2 + acc_3)) + ((acc_4 + acc_5) +
/// (acc_6 + acc_7))</c>.</para>
/// <para>The eight rows are read as eight short interleaved streams, which the hardware prefetchers do not follow
/// from DRAM; each block step prefetches the matching share of the rows two calls ahead (weight rows are
/// contiguous in the matrices decode multiplies).</para>
/// </remarks>
public static unsafe class MatVecQ8_0
{
    /// <summary>True when the kernel can run here (AVX2/FMA, scalar not forced).</summary>
    public static bool IsSupported { get; } = CpuFeatures.UseAvx2;

    /// <summary>True when the AVX-VNNI variant is used (the results are the same).</summary>
    public static bool UsesVnni { get; } = CpuFeatures.UseAvx2 && AvxVnni.IsSupported;

    /// <summary>Most weight rows one <see cref="Rows"/> call computes.</summary>
    public const int MaxRows = 8;

    // How many eight-row groups ahead the kernel prefetches.
    private const int PrefetchGroups = 2;

    /// <summary>True when <paramref name="weight"/> has this kernel (Q4_0, Q5_0, Q8_0).</summary>
    public static bool Handles(DType weight) => weight is DType.Q4_0 or DType.Q5_0 or DType.Q8_0;

    /// <summary>Bytes of the per-row data <see cref="PrepareAux"/> writes for <paramref name="nb"/> blocks.</summary>
    public static long AuxRowBytes(DType weight, long nb) => nb * (sizeof(float) + Lanes(weight) * sizeof(int));

    /// <summary>
    /// Writes, for each of the <paramref name="nb"/> Q8_0 blocks of one activation row, the scale as f32 and the
    /// lane offsets <c>-o * sum</c> of <paramref name="weight"/>'s decoding: <c>float d[nb]</c> then
    /// <c>int c[nb][L]</c> (L = 4 for Q4_0/Q5_0, 8 for Q8_0).
    /// </summary>
    public static void PrepareAux(DType weight, byte* y, int nb, byte* aux)
    {
        int o = Offset(weight), lanes = Lanes(weight);
        float* ht = QuantSimd.HalfTable;
        float* d = (float*)aux;
        int* c = (int*)(aux + (long)nb * sizeof(float));
        for (int i = 0; i < nb; i++)
        {
            byte* b = y + (long)i * 34;
            sbyte* q = (sbyte*)(b + 2);
            d[i] = QuantSimd.Half(ht, b);
            for (int j = 0; j < lanes; j++)
            {
                int s = 0;
                for (int t = 0; t < 4; t++)
                {
                    s += lanes == 8 ? q[4 * j + t] : q[4 * j + t] + q[16 + 4 * j + t];
                }
                c[lanes * i + j] = -o * s;
            }
        }
    }

    /// <summary>Scalar reference of one row's dot (<paramref name="nb"/> blocks) in the kernel's order (see the remarks).</summary>
    public static float DotReference(DType weight, int nb, byte* w, byte* y)
    {
        if (weight == DType.Q8_0)
        {
            return DotReferenceQ8(nb, w, y);
        }
        int o = Offset(weight), bb = BlockBytes(weight);
        float* ht = QuantSimd.HalfTable;
        float l0 = 0, l1 = 0, l2 = 0, l3 = 0;
        for (int i = 0; i < nb; i++)
        {
            byte* bx = w + (long)i * bb, by = y + (long)i * 34;
            sbyte* q = (sbyte*)(by + 2);
            float scale = QuantSimd.Half(ht, bx) * QuantSimd.Half(ht, by);
            for (int j = 0; j < 4; j++)
            {
                int lane = 0;
                for (int t = 0; t < 4; t++)
                {
                    int e0 = 4 * j + t, e1 = 16 + 4 * j + t;
                    lane += (UnsignedValue(weight, bx, e0) - o) * q[e0] + (UnsignedValue(weight, bx, e1) - o) * q[e1];
                }
                switch (j)
                {
                    case 0: l0 = MathF.FusedMultiplyAdd(scale, lane, l0); break;
                    case 1: l1 = MathF.FusedMultiplyAdd(scale, lane, l1); break;
                    case 2: l2 = MathF.FusedMultiplyAdd(scale, lane, l2); break;
                    default: l3 = MathF.FusedMultiplyAdd(scale, lane, l3); break;
                }
            }
        }
        return (l0 + l1) + (l2 + l3);
    }

    private static float DotReferenceQ8(int nb, byte* w, byte* y)
    {
        float* ht = QuantSimd.HalfTable;
        float* l = stackalloc float[8];
        for (int j = 0; j < 8; j++)
        {
            l[j] = 0;
        }
        for (int i = 0; i < nb; i++)
        {
            byte* bx = w + (long)i * 34, by = y + (long)i * 34;
            sbyte* qx = (sbyte*)(bx + 2), qy = (sbyte*)(by + 2);
            float scale = QuantSimd.Half(ht, bx) * QuantSimd.Half(ht, by);
            for (int j = 0; j < 8; j++)
            {
                int lane = qx[4 * j] * qy[4 * j] + qx[4 * j + 1] * qy[4 * j + 1] + qx[4 * j + 2] * qy[4 * j + 2] + qx[4 * j + 3] * qy[4 * j + 3];
                l[j] = MathF.FusedMultiplyAdd(scale, lane, l[j]);
            }
        }
        return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
    }

    /// <summary>
    /// <c>res[r] = dot(weight row r, activation row)</c> for r below <paramref name="rows"/> (1..<see cref="MaxRows"/>):
    /// weight rows <paramref name="wStride"/> bytes apart, one Q8_0 activation row <paramref name="y"/> with its
    /// <see cref="PrepareAux"/> data <paramref name="aux"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Rows outside 1..8, or a type without this kernel.</exception>
    public static void Rows(DType weight, int nb, byte* w, long wStride, int rows, byte* y, byte* aux, float* res)
    {
        if (UsesVnni)
        {
            Dispatch<VnniSum>(weight, nb, w, wStride, rows, y, aux, res);
        }
        else
        {
            Dispatch<Avx2Sum>(weight, nb, w, wStride, rows, y, aux, res);
        }
    }

    /// <summary><see cref="Rows"/> without AVX-VNNI (<c>vpmaddubsw</c> + <c>vpmaddwd</c>), for tests on VNNI machines.</summary>
    public static void RowsAvx2(DType weight, int nb, byte* w, long wStride, int rows, byte* y, byte* aux, float* res) =>
        Dispatch<Avx2Sum>(weight, nb, w, wStride, rows, y, aux, res);

    // Value e (0..31) of a weight block as the unsigned byte q + o.
    private static int UnsignedValue(DType weight, byte* b, int e) => weight switch
    {
        DType.Q4_0 => e < 16 ? b[2 + e] & 0x0F : b[2 + e - 16] >> 4,
        _ => (e < 16 ? b[6 + e] & 0x0F : b[6 + e - 16] >> 4) | (int)((*(uint*)(b + 2) >> e) & 1) << 4,
    };

    private static int Offset(DType weight) => weight switch
    {
        DType.Q4_0 => 8,
        DType.Q5_0 => 16,
        DType.Q8_0 => 128,
        _ => throw new ArgumentOutOfRangeException(nameof(weight), $"No Q8_0-activation mat-vec kernel for {weight}."),
    };

    private static int BlockBytes(DType weight) => weight == DType.Q4_0 ? 18 : 22;

    private static int Lanes(DType weight) => Offset(weight) == 128 ? 8 : 4; // Offset rejects the types without this kernel

    // Unpacks the same block of two rows: lo = values 0..15 of row a | of row b, hi = values 16..31 of each.
    private interface IPairDecoder
    {
        static abstract int BlockBytes { get; }
        static abstract void Load(byte* a, byte* b, out Vector256<byte> lo, out Vector256<byte> hi);
    }

    private readonly struct Q4_0Pair : IPairDecoder
    {
        public static int BlockBytes => 18;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Load(byte* a, byte* b, out Vector256<byte> lo, out Vector256<byte> hi)
        {
            Vector256<byte> v = Vector256.Create(Sse2.LoadVector128(a + 2), Sse2.LoadVector128(b + 2));
            Vector256<byte> m = Vector256.Create((byte)0x0F);
            lo = Avx2.And(v, m);
            hi = Avx2.And(Avx2.ShiftRightLogical(v.AsUInt16(), 4).AsByte(), m);
        }
    }

    private readonly struct Q5_0Pair : IPairDecoder
    {
        public static int BlockBytes => 22;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Load(byte* a, byte* b, out Vector256<byte> lo, out Vector256<byte> hi)
        {
            Vector256<byte> v = Vector256.Create(Sse2.LoadVector128(a + 6), Sse2.LoadVector128(b + 6));
            Vector256<byte> m = Vector256.Create((byte)0x0F), bit4 = Vector256.Create((byte)0x10);
            uint ha = *(uint*)(a + 2), hb = *(uint*)(b + 2);
            Vector256<byte> hlo = Avx2.And(QuantSimd.BytesFromBits32((ha & 0xFFFF) | (hb << 16)), bit4);
            Vector256<byte> hhi = Avx2.And(QuantSimd.BytesFromBits32((ha >> 16) | (hb & 0xFFFF_0000)), bit4);
            lo = Avx2.Or(Avx2.And(v, m), hlo);
            hi = Avx2.Or(Avx2.And(Avx2.ShiftRightLogical(v.AsUInt16(), 4).AsByte(), m), hhi);
        }
    }

    // lane sums of u·y over lo/hi starting from the offset lanes c.
    private interface ILaneSum
    {
        static abstract Vector256<int> Sum(Vector256<int> c, Vector256<byte> lo, Vector256<sbyte> ylo, Vector256<byte> hi, Vector256<sbyte> yhi);
    }

    // Lane sums of one Q8_0 weight block (32 signed bytes at q) against the activation values y.
    private interface ILaneSumQ8
    {
        static abstract Vector256<int> SumQ8(Vector256<int> c, byte* q, Vector256<sbyte> y);
    }

    private readonly struct VnniSum : ILaneSum, ILaneSumQ8
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> SumQ8(Vector256<int> c, byte* q, Vector256<sbyte> y) =>
            AvxVnni.MultiplyWideningAndAdd(c, Avx2.Xor(Avx.LoadVector256(q), Vector256.Create((byte)0x80)), y);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Sum(Vector256<int> c, Vector256<byte> lo, Vector256<sbyte> ylo, Vector256<byte> hi, Vector256<sbyte> yhi) =>
            AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(c, lo, ylo), hi, yhi);
    }

    private readonly struct Avx2Sum : ILaneSum, ILaneSumQ8
    {
        // |q| · (y with q's sign): pair sums within int16 as |y| ≤ 127.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> SumQ8(Vector256<int> c, byte* q, Vector256<sbyte> y)
        {
            Vector256<sbyte> v = Avx.LoadVector256((sbyte*)q);
            return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Avx2.Abs(v), Avx2.Sign(y, v)), Vector256.Create((short)1));
        }

        // Pair sums stay within int16: 4 products of at most 31 · 128 each.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Sum(Vector256<int> c, Vector256<byte> lo, Vector256<sbyte> ylo, Vector256<byte> hi, Vector256<sbyte> yhi) =>
            Avx2.Add(c, Avx2.MultiplyAddAdjacent(Avx2.Add(Avx2.MultiplyAddAdjacent(lo, ylo), Avx2.MultiplyAddAdjacent(hi, yhi)), Vector256.Create((short)1)));
    }

    private static void Dispatch<TS>(DType weight, int nb, byte* w, long wStride, int rows, byte* y, byte* aux, float* res)
        where TS : struct, ILaneSum, ILaneSumQ8
    {
        if (rows is < 1 or > MaxRows)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), $"Row count {rows} is outside 1..{MaxRows}.");
        }
        switch (weight)
        {
            case DType.Q4_0: Dispatch<Q4_0Pair, TS>(nb, w, wStride, rows, y, aux, res); break;
            case DType.Q5_0: Dispatch<Q5_0Pair, TS>(nb, w, wStride, rows, y, aux, res); break;
            case DType.Q8_0:
                switch ((rows + 1) / 2)
                {
                    case 1: KernelQ8<TS, Tile1>(nb, w, wStride, rows, y, aux, res); break;
                    case 2: KernelQ8<TS, Tile2>(nb, w, wStride, rows, y, aux, res); break;
                    case 3: KernelQ8<TS, Tile3>(nb, w, wStride, rows, y, aux, res); break;
                    default: KernelQ8<TS, Tile4>(nb, w, wStride, rows, y, aux, res); break;
                }
                break;
            default: throw new ArgumentOutOfRangeException(nameof(weight), $"No Q8_0-activation mat-vec kernel for {weight}.");
        }
    }

    private static void Dispatch<TD, TS>(int nb, byte* w, long wStride, int rows, byte* y, byte* aux, float* res)
        where TD : struct, IPairDecoder
        where TS : struct, ILaneSum
    {
        switch ((rows + 1) / 2)
        {
            case 1: Kernel<TD, TS, Tile1>(nb, w, wStride, rows, y, aux, res); break;
            case 2: Kernel<TD, TS, Tile2>(nb, w, wStride, rows, y, aux, res); break;
            case 3: Kernel<TD, TS, Tile3>(nb, w, wStride, rows, y, aux, res); break;
            default: Kernel<TD, TS, Tile4>(nb, w, wStride, rows, y, aux, res); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel<TD, TS, TP>(int nb, byte* w, long wStride, int rows, byte* y, byte* aux, float* res)
        where TD : struct, IPairDecoder
        where TS : struct, ILaneSum
        where TP : struct, ITileCount
    {
        float* ht = QuantSimd.HalfTable;
        float* dy = (float*)aux;
        int* cy = (int*)(aux + (long)nb * sizeof(float));
        // Pair p holds rows 2p and 2p + 1; an odd last row is paired with itself and its copy dropped.
        byte* a0 = w, b0 = rows > 1 ? w + wStride : a0;
        byte* a1 = w + 2 * wStride, b1 = rows > 3 ? w + 3 * wStride : a1;
        byte* a2 = w + 4 * wStride, b2 = rows > 5 ? w + 5 * wStride : a2;
        byte* a3 = w + 6 * wStride, b3 = rows > 7 ? w + 7 * wStride : a3;
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = acc0, acc2 = acc0, acc3 = acc0;
        byte* pf = w + PrefetchGroups * MaxRows * wStride;
        long pfStep = (long)TP.N * 2 * wStride / nb;
        for (int i = 0; i < nb; i++)
        {
            byte* pi = pf + i * pfStep;
            Sse.Prefetch0(pi);
            Sse.Prefetch0(pi + 64);
            Sse.Prefetch0(pi + 128);
            byte* yb = y + (long)i * 34 + 2;
            Vector256<sbyte> ylo = Avx2.BroadcastVector128ToVector256((sbyte*)yb);
            Vector256<sbyte> yhi = Avx2.BroadcastVector128ToVector256((sbyte*)(yb + 16));
            Vector256<int> c = Avx2.BroadcastVector128ToVector256(cy + 4 * i);
            Vector256<float> d = Vector256.Create(dy[i]);
            long o = (long)i * TD.BlockBytes;
            TD.Load(a0 + o, b0 + o, out Vector256<byte> lo, out Vector256<byte> hi);
            Vector256<float> s = Vector256.Create(Vector128.Create(ht[*(ushort*)(a0 + o)]), Vector128.Create(ht[*(ushort*)(b0 + o)]));
            acc0 = Fma.MultiplyAdd(Avx.Multiply(s, d), Avx.ConvertToVector256Single(TS.Sum(c, lo, ylo, hi, yhi)), acc0);
            if (TP.N > 1)
            {
                TD.Load(a1 + o, b1 + o, out lo, out hi);
                s = Vector256.Create(Vector128.Create(ht[*(ushort*)(a1 + o)]), Vector128.Create(ht[*(ushort*)(b1 + o)]));
                acc1 = Fma.MultiplyAdd(Avx.Multiply(s, d), Avx.ConvertToVector256Single(TS.Sum(c, lo, ylo, hi, yhi)), acc1);
            }
            if (TP.N > 2)
            {
                TD.Load(a2 + o, b2 + o, out lo, out hi);
                s = Vector256.Create(Vector128.Create(ht[*(ushort*)(a2 + o)]), Vector128.Create(ht[*(ushort*)(b2 + o)]));
                acc2 = Fma.MultiplyAdd(Avx.Multiply(s, d), Avx.ConvertToVector256Single(TS.Sum(c, lo, ylo, hi, yhi)), acc2);
            }
            if (TP.N > 3)
            {
                TD.Load(a3 + o, b3 + o, out lo, out hi);
                s = Vector256.Create(Vector128.Create(ht[*(ushort*)(a3 + o)]), Vector128.Create(ht[*(ushort*)(b3 + o)]));
                acc3 = Fma.MultiplyAdd(Avx.Multiply(s, d), Avx.ConvertToVector256Single(TS.Sum(c, lo, ylo, hi, yhi)), acc3);
            }
        }
        // hadd twice: lower half [r0, r2, r4, r6], upper half [r1, r3, r5, r7], each (l0 + l1) + (l2 + l3).
        Vector256<float> u = Avx.HorizontalAdd(Avx.HorizontalAdd(acc0, acc1), Avx.HorizontalAdd(acc2, acc3));
        u = Avx2.PermuteVar8x32(u, Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7));
        Store(u, rows, res);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void KernelQ8<TS, TP>(int nb, byte* w, long wStride, int rows, byte* y, byte* aux, float* res)
        where TS : struct, ILaneSumQ8
        where TP : struct, ITileCount
    {
        float* ht = QuantSimd.HalfTable;
        float* dy = (float*)aux;
        int* cy = (int*)(aux + (long)nb * sizeof(float));
        // Rows past the count repeat the last one; their results are dropped.
        byte* r0 = w, r1 = rows > 1 ? w + wStride : r0;
        byte* r2 = rows > 2 ? w + 2 * wStride : r1, r3 = rows > 3 ? w + 3 * wStride : r2;
        byte* r4 = rows > 4 ? w + 4 * wStride : r3, r5 = rows > 5 ? w + 5 * wStride : r4;
        byte* r6 = rows > 6 ? w + 6 * wStride : r5, r7 = rows > 7 ? w + 7 * wStride : r6;
        Vector256<float> acc0 = Vector256<float>.Zero, acc1 = acc0, acc2 = acc0, acc3 = acc0;
        Vector256<float> acc4 = acc0, acc5 = acc0, acc6 = acc0, acc7 = acc0;
        byte* pf = w + PrefetchGroups * MaxRows * wStride;
        long pfStep = (long)TP.N * 2 * wStride / nb;
        for (int i = 0; i < nb; i++)
        {
            byte* pi = pf + i * pfStep;
            Sse.Prefetch0(pi);
            Sse.Prefetch0(pi + 64);
            Sse.Prefetch0(pi + 128);
            Sse.Prefetch0(pi + 192);
            Sse.Prefetch0(pi + 256);
            long o = (long)i * 34;
            Vector256<sbyte> yv = Avx.LoadVector256((sbyte*)(y + o + 2));
            Vector256<int> c = Avx.LoadVector256(cy + 8 * i);
            Vector256<float> d = Vector256.Create(dy[i]);
            acc0 = Fma.MultiplyAdd(Avx.Multiply(Vector256.Create(ht[*(ushort*)(r0 + o)]), d), Avx.ConvertToVector256Single(TS.SumQ8(c, r0 + o + 2, yv)), acc0);
            acc1 = Fma.MultiplyAdd(Avx.Multiply(Vector256.Create(ht[*(ushort*)(r1 + o)]), d), Avx.ConvertToVector256Single(TS.SumQ8(c, r1 + o + 2, yv)), acc1);
            if (TP.N > 1)
            {
                acc2 = Fma.MultiplyAdd(Avx.Multiply(Vector256.Create(ht[*(ushort*)(r2 + o)]), d), Avx.ConvertToVector256Single(TS.SumQ8(c, r2 + o + 2, yv)), acc2);
                acc3 = Fma.MultiplyAdd(Avx.Multiply(Vector256.Create(ht[*(ushort*)(r3 + o)]), d), Avx.ConvertToVector256Single(TS.SumQ8(c, r3 + o + 2, yv)), acc3);
            }
            if (TP.N > 2)
            {
                acc4 = Fma.MultiplyAdd(Avx.Multiply(Vector256.Create(ht[*(ushort*)(r4 + o)]), d), Avx.ConvertToVector256Single(TS.SumQ8(c, r4 + o + 2, yv)), acc4);
                acc5 = Fma.MultiplyAdd(Avx.Multiply(Vector256.Create(ht[*(ushort*)(r5 + o)]), d), Avx.ConvertToVector256Single(TS.SumQ8(c, r5 + o + 2, yv)), acc5);
            }
            if (TP.N > 3)
            {
                acc6 = Fma.MultiplyAdd(Avx.Multiply(Vector256.Create(ht[*(ushort*)(r6 + o)]), d), Avx.ConvertToVector256Single(TS.SumQ8(c, r6 + o + 2, yv)), acc6);
                acc7 = Fma.MultiplyAdd(Avx.Multiply(Vector256.Create(ht[*(ushort*)(r7 + o)]), d), Avx.ConvertToVector256Single(TS.SumQ8(c, r7 + o + 2, yv)), acc7);
            }
        }
        // hadd twice: row r's (l0 + l1) + (l2 + l3) in the lower half, (l4 + l5) + (l6 + l7) in the upper.
        Vector256<float> u = Avx.HorizontalAdd(Avx.HorizontalAdd(acc0, acc1), Avx.HorizontalAdd(acc2, acc3));
        Vector256<float> v = Avx.HorizontalAdd(Avx.HorizontalAdd(acc4, acc5), Avx.HorizontalAdd(acc6, acc7));
        Vector256<float> sum = Vector256.Create(Sse.Add(u.GetLower(), u.GetUpper()), Sse.Add(v.GetLower(), v.GetUpper()));
        Store(sum, rows, res);
    }

    private static void Store(Vector256<float> u, int rows, float* res)
    {
        if (rows == MaxRows)
        {
            Avx.Store(res, u);
        }
        else
        {
            float* t = stackalloc float[MaxRows];
            Avx.Store(t, u);
            for (int r = 0; r < rows; r++)
            {
                res[r] = t[r];
            }
        }
    }
}
