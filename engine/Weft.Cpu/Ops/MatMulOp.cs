using System.Diagnostics;
using System.Runtime.CompilerServices;
using Weft.Core;
using Weft.Core.Quants;
using Weft.Cpu.Quants;

namespace Weft.Cpu.Ops;

/// <summary>
/// CPU <see cref="OpKind.MatMul"/>: <c>dst[n, m, i2, i3] = sum_k w[k, n, i2 / r2, i3 / r3] * x[k, m, i2, i3]</c>
/// (ggml's mul_mat: rows of the weight dot rows of the activations) for weights of every computable type
/// (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K), F32 activations (any strides) and F32 dst.
/// </summary>
/// <remarks>
/// Phase 1: the threads convert their share of activation rows to the weight's dot partner format
/// (<see cref="VecDotKernel.Activation"/>) in the scratch buffer; barrier. Phase 2: threads take chunks of
/// (weight rows × activation rows) from a shared atomic counter (so a thread slowed by other load does not hold
/// the others back); inside a chunk, 16 × 16 tiles keep the weight rows and activation rows of the tile in L1/L2.
/// Where the type has a four-row kernel (<see cref="VecDotKernel.Dot4"/>: F32, F16, BF16, Q4_0, Q5_0, Q8_0, Q4_K, Q6_K on AVX2),
/// each weight row is decoded once for four activation rows; otherwise each pair is dotted. Decode (one activation
/// row) splits the weight rows into chunks of at least 256 KiB of consecutive rows, split evenly over the threads
/// (the prefetchers pay off over long runs of one thread), or chunks of up to 256 rows on one thread; Q4_0, Q5_0
/// and Q8_0 weights then go through
/// <see cref="MatVecQ8_0"/>, eight weight rows per call. Results are accumulated in f32 as ggml does; precision
/// follows the activation format (Q8 activations carry about 2^-8 relative error per value).
/// With more than one thread, <see cref="ComputeParams.Barrier"/> must be a real barrier (phase 2 reads rows
/// converted by other threads).
/// </remarks>
public sealed unsafe class MatMulOp : ICpuOp
{
    // Scratch layout: [0, 64) the chunk counter (own cache line), then converted activation rows, then per-thread
    // F32 gather rows for activations whose rows are not contiguous.
    private const int Header = 64;
    private const int Tile = 16;

    // Least bytes of weight rows in one decode chunk (see Compute).
    private const long RunBytes = 256 * 1024;

    /// <inheritdoc/>
    public OpKind Kind => OpKind.MatMul;

    /// <inheritdoc/>
    public bool Supports(Tensor node)
    {
        Tensor? w = node.Src[0], x = node.Src[1];
        if (w is null || x is null || node.Type != DType.F32 || node.Nb[0] != sizeof(float) || x.Type != DType.F32 ||
            !VecDot.Supports(w.Type) || w.Nb[0] != w.Traits.TypeSize)
        {
            return false;
        }
        return w.Ne[0] == x.Ne[0] && w.Ne[0] <= int.MaxValue && w.Ne[0] % VecDot.For(w.Type).ActBlock == 0 &&
            node.Ne[0] == w.Ne[1] && node.Ne[1] == x.Ne[1] && node.Ne[2] == x.Ne[2] && node.Ne[3] == x.Ne[3] &&
            w.Ne[2] > 0 && w.Ne[3] > 0 && x.Ne[2] % w.Ne[2] == 0 && x.Ne[3] % w.Ne[3] == 0;
    }

    /// <inheritdoc/>
    public long WorkSize(Tensor node, int nThreads)
    {
        Tensor w = node.Src[0]!, x = node.Src[1]!;
        long k = w.Ne[0];
        long bytes = Header + Align64(VecDot.For(w.Type).ActRowBytes(k) * x.RowCount);
        if (x.Nb[0] != sizeof(float))
        {
            bytes += nThreads * Align64(k * sizeof(float));
        }
        bytes += TileMode(w, x) switch
        {
            Tiling.FloatPanel => nThreads * Align64(TileRows * k * sizeof(float)),
            Tiling.Q8 => Align64(TileQ8_0.AuxRowBytes(k / QK.Simple) * x.RowCount),
            Tiling.MatVec => Align64(MatVecQ8_0.AuxRowBytes(w.Type, k / QK.Simple) * x.RowCount),
            _ => 0,
        };
        return bytes;
    }

    // How phase 2 runs: per pair / four-row kernels, register tiles (float weights read directly or widened
    // into a per-thread panel; Q8_0-activation types with per-block aux data), or the Q4_0/Q5_0/Q8_0 mat-vec kernel
    // (up to three activation rows, each against eight weight rows per call, with per-block aux data).
    private enum Tiling
    {
        None,
        Float,
        FloatPanel,
        Q8,
        MatVec,
    }

    private const int TileRows = 4;
    private const int TileCols = 4;

    // Tiles need a prompt batch (two activation rows or more) and one weight matrix (no batch dims on the weights).
    private static Tiling TileMode(Tensor w, Tensor x)
    {
        if (s_legacy)
        {
            return Tiling.None;
        }
        if (x.RowCount < 4 && MatVecQ8_0.IsSupported && MatVecQ8_0.Handles(w.Type) && !(x.RowCount >= 2 && TileQ8_0.IsSupported))
        {
            return Tiling.MatVec;
        }
        if (x.RowCount < 2 || w.Ne[2] != 1 || w.Ne[3] != 1)
        {
            return Tiling.None;
        }
        if (TileQ8_0.IsSupported && TileQ8_0.Handles(w.Type))
        {
            return Tiling.Q8;
        }
        if (!CpuFeatures.UseAvx2)
        {
            return Tiling.None;
        }
        return w.Type switch
        {
            DType.F32 when w.Nb[1] % sizeof(float) == 0 => Tiling.Float,
            DType.F32 or DType.F16 or DType.BF16 => Tiling.FloatPanel,
            _ => Tiling.None,
        };
    }

    private static bool s_legacy = Environment.GetEnvironmentVariable("WEFT_CPU_LEGACY_MATMUL") == "1";

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Compute(in ComputeParams p, Tensor dst)
    {
        Tensor w = dst.Src[0]!, x = dst.Src[1]!;
        VecDotKernel kern = VecDot.For(w.Type);
        int k = (int)w.Ne[0];
        long n = w.Ne[1];
        long ne11 = x.Ne[1], ne12 = x.Ne[2];
        long m = x.RowCount;
        long actRow = kern.ActRowBytes(k);
        byte* work = (byte*)p.WorkData;
        Debug.Assert(p.WorkSize >= WorkSize(dst, p.Nth), "MatMul scratch is smaller than WorkSize asked for.");
        byte* act = work + Header;
        Tiling mode = TileMode(w, x);
        byte* extra = act + Align64(actRow * m) + (x.Nb[0] == sizeof(float) ? 0 : p.Nth * Align64((long)k * sizeof(float)));
        long auxRow = mode switch
        {
            Tiling.Q8 => TileQ8_0.AuxRowBytes(k / QK.Simple),
            Tiling.MatVec => MatVecQ8_0.AuxRowBytes(w.Type, k / QK.Simple),
            _ => 0,
        };
        byte* aux = extra;

        // Phase 1: convert this thread's activation rows.
        (long r0, long r1) = p.Split(m);
        float* gather = x.Nb[0] == sizeof(float) ? null : (float*)(act + Align64(actRow * m) + p.Ith * Align64((long)k * sizeof(float)));
        for (long r = r0; r < r1; r++)
        {
            long i11 = r % ne11, i12 = r / ne11 % ne12, i13 = r / ne11 / ne12;
            byte* src = (byte*)x.Data + i11 * x.Nb[1] + i12 * x.Nb[2] + i13 * x.Nb[3];
            if (gather is not null)
            {
                for (int i = 0; i < k; i++)
                {
                    gather[i] = *(float*)(src + i * x.Nb[0]);
                }
                src = (byte*)gather;
            }
            kern.Convert((float*)src, act + r * actRow, k);
            if (mode == Tiling.Q8)
            {
                TileQ8_0.PrepareAux(w.Type, act + r * actRow, k / QK.Simple, aux + r * auxRow);
            }
            else if (mode == Tiling.MatVec)
            {
                MatVecQ8_0.PrepareAux(w.Type, act + r * actRow, k / QK.Simple, aux + r * auxRow);
            }
        }
        if (p.Ith == 0)
        {
            Volatile.Write(ref *(long*)work, 0);
        }
        p.Barrier();
        if (n == 0 || m == 0)
        {
            return;
        }

        if (mode != Tiling.None && mode != Tiling.MatVec)
        {
            ComputeTiles(in p, dst, mode, k, n, m, act, actRow, aux, auxRow, (float*)(extra + p.Ith * Align64(TileRows * (long)k * sizeof(float))));
            return;
        }

        // Phase 2: chunks of chunkRows weight rows × chunkCols activation rows, taken from the shared counter.
        long chunkCols = m < 4 ? m : Math.Min(m, 64);
        long chunkRows = m < 4 ? Math.Max(Tile, Math.Min(256, n / (8L * p.Nth) / Tile * Tile)) : 64;
        if (m < 4 && p.Nth > 1)
        {
            // Decode: chunks of at least RunBytes of consecutive weight rows (up to one run per thread), split
            // evenly. The prefetchers (and the mat-vec kernel's own, which fetches the rows after the ones it
            // computes) pay off only over long runs of one thread; several chunks per thread keep the balance when
            // a thread is slowed. Measured on 2 threads (tg32, best of 4 interleaved runs) against chunks of n / 16
            // rows: 135m Q4_0 177 -> 208 t/s, F16 104 -> 135, 1b Q4_K_M 48 -> 51; one run per thread did as well on
            // a quiet machine and lost 10-15 % on the 1b shapes on a noisy one.
            long target = Math.Max(chunkRows, Math.Min((n + p.Nth - 1) / p.Nth, RunBytes / Math.Max(1, w.Nb[1])));
            long perThread = Math.Max(1, n / (p.Nth * target));
            chunkRows = ((n + p.Nth * perThread - 1) / (p.Nth * perThread) + Tile - 1) / Tile * Tile;
        }
        long nc0 = (n + chunkRows - 1) / chunkRows, nc1 = (m + chunkCols - 1) / chunkCols;
        long nChunks = nc0 * nc1;
        long r2 = x.Ne[2] / w.Ne[2], r3 = x.Ne[3] / w.Ne[3];
        var dot = kern.Dot;
        if (m < 4 && kern.DotFinite != null && FiniteWeights.IsFiniteF16(w))
        {
            dot = kern.DotFinite; // decode: the weights are known to hold no inf/NaN
        }
        var dot4 = m >= 4 ? kern.Dot4 : null;
        float* out4 = stackalloc float[4];
        for (long c = p.Nth == 1 ? 0 : Interlocked.Increment(ref *(long*)work) - 1; c < nChunks;
             c = p.Nth == 1 ? c + 1 : Interlocked.Increment(ref *(long*)work) - 1)
        {
            long row0 = c % nc0 * chunkRows, row1 = Math.Min(n, row0 + chunkRows);
            long col0 = c / nc0 * chunkCols, col1 = Math.Min(m, col0 + chunkCols);
            for (long tc = col0; tc < col1; tc += Tile)
            {
                long tcEnd = Math.Min(col1, tc + Tile);
                for (long tr = row0; tr < row1; tr += Tile)
                {
                    long trEnd = Math.Min(row1, tr + Tile);
                    long col = tc;
                    if (dot4 != null)
                    {
                        // Four activation rows per weight row when they share the weight matrix (same i2/i3 slice).
                        for (; col + 4 <= tcEnd; col += 4)
                        {
                            if (col / ne11 != (col + 3) / ne11)
                            {
                                break;
                            }
                            long i11 = col % ne11, i12 = col / ne11 % ne12, i13 = col / ne11 / ne12;
                            byte* wBase = (byte*)w.Data + i12 / r2 * w.Nb[2] + i13 / r3 * w.Nb[3];
                            byte* d = (byte*)dst.Data + i11 * dst.Nb[1] + i12 * dst.Nb[2] + i13 * dst.Nb[3];
                            long nb1 = dst.Nb[1], nb01 = w.Nb[1];
                            for (long row = tr; row < trEnd; row++)
                            {
                                dot4(k, wBase + row * nb01, act + col * actRow, actRow, out4);
                                *(float*)(d + row * 4) = out4[0];
                                *(float*)(d + nb1 + row * 4) = out4[1];
                                *(float*)(d + 2 * nb1 + row * 4) = out4[2];
                                *(float*)(d + 3 * nb1 + row * 4) = out4[3];
                            }
                        }
                    }
                    for (; col < tcEnd; col++)
                    {
                        long i11 = col % ne11, i12 = col / ne11 % ne12, i13 = col / ne11 / ne12;
                        byte* wBase = (byte*)w.Data + i12 / r2 * w.Nb[2] + i13 / r3 * w.Nb[3];
                        byte* a = act + col * actRow;
                        float* d = (float*)((byte*)dst.Data + i11 * dst.Nb[1] + i12 * dst.Nb[2] + i13 * dst.Nb[3]);
                        long nb01 = w.Nb[1];
                        if (mode == Tiling.MatVec)
                        {
                            byte* ax = aux + col * auxRow;
                            for (long row = tr; row < trEnd; row += MatVecQ8_0.MaxRows)
                            {
                                int rows = (int)Math.Min(MatVecQ8_0.MaxRows, trEnd - row);
                                MatVecQ8_0.Rows(w.Type, k / QK.Simple, wBase + row * nb01, nb01, rows, a, ax, d + row);
                            }
                            continue;
                        }
                        for (long row = tr; row < trEnd; row++)
                        {
                            d[row] = dot(k, wBase + row * nb01, a);
                        }
                    }
                }
            }
        }
    }

    // Phase 2 with register tiles: chunks of 16 weight rows × up to 64 activation rows from the shared counter
    // (row chunks first, so a column chunk's activations stay in L2 while the weights stream); inside a chunk, each
    // group of four weight rows (widened once into the thread's panel for F16/BF16) meets every column in 4-wide tiles.
    private static void ComputeTiles(in ComputeParams p, Tensor dst, Tiling mode, int k, long n, long m, byte* act, long actRow,
        byte* aux, long auxRow, float* panel)
    {
        Tensor w = dst.Src[0]!, x = dst.Src[1]!;
        const long chunkRows = 16;
        long chunkCols = Math.Min(m, 64);
        long nc0 = (n + chunkRows - 1) / chunkRows, nc1 = (m + chunkCols - 1) / chunkCols;
        long nChunks = nc0 * nc1;
        long ne11 = x.Ne[1], ne12 = x.Ne[2];
        long nb01 = w.Nb[1];
        int nb = k / QK.Simple;
        byte* work = (byte*)p.WorkData;
        float* res = stackalloc float[TileRows * TileCols];
        byte** cols = stackalloc byte*[64];
        for (long c = p.Nth == 1 ? 0 : Interlocked.Increment(ref *(long*)work) - 1; c < nChunks;
             c = p.Nth == 1 ? c + 1 : Interlocked.Increment(ref *(long*)work) - 1)
        {
            long row0 = c % nc0 * chunkRows, row1 = Math.Min(n, row0 + chunkRows);
            long col0 = c / nc0 * chunkCols, col1 = Math.Min(m, col0 + chunkCols);
            for (long col = col0; col < col1; col++)
            {
                long i11 = col % ne11, i12 = col / ne11 % ne12, i13 = col / ne11 / ne12;
                cols[col - col0] = (byte*)dst.Data + i11 * dst.Nb[1] + i12 * dst.Nb[2] + i13 * dst.Nb[3];
            }
            for (long tr = row0; tr < row1; tr += TileRows)
            {
                int rows = (int)Math.Min(TileRows, row1 - tr);
                byte* wRows = (byte*)w.Data + tr * nb01;
                float* wp = (float*)wRows;
                long wStride = nb01 / sizeof(float);
                if (mode == Tiling.FloatPanel)
                {
                    switch (w.Type)
                    {
                        case DType.F16: TileF32.DecodeF16(wRows, nb01, rows, k, panel, QuantSimd.HalfScaleInverse); break;
                        case DType.BF16: TileF32.DecodeBf16(wRows, nb01, rows, k, panel); break;
                        default:
                            for (int r = 0; r < rows; r++)
                            {
                                Buffer.MemoryCopy(wRows + r * nb01, panel + (long)r * k, (long)k * sizeof(float), (long)k * sizeof(float));
                            }
                            break;
                    }
                    wp = panel;
                    wStride = k;
                }
                for (long tc = col0; tc < col1; tc += TileCols)
                {
                    int nCols = (int)Math.Min(TileCols, col1 - tc);
                    if (mode == Tiling.Q8)
                    {
                        TileQ8_0.Tile(w.Type, nb, wRows, nb01, rows, act + tc * actRow, actRow, aux + tc * auxRow, auxRow, nCols, res);
                    }
                    else
                    {
                        TileF32.Tile(k, wp, wStride, rows, (float*)(act + tc * actRow), actRow / sizeof(float), nCols, res);
                    }
                    for (int cc = 0; cc < nCols; cc++)
                    {
                        float* d = (float*)cols[tc - col0 + cc] + tr;
                        for (int r = 0; r < rows; r++)
                        {
                            d[r] = res[cc * TileRows + r];
                        }
                    }
                }
            }
        }
    }

    private static long Align64(long bytes) => (bytes + 63) & ~63L;
}
