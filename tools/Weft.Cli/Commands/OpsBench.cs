using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Weft.Core;
using Weft.Core.Quants;
using Weft.Cpu;
using Weft.Cpu.Ops;

namespace Weft.Cli.Commands;

/// <summary>Measurements behind <c>weft bench ops</c>: STREAM triad and MatMulOp timings on native buffers.</summary>
internal static unsafe class OpsBench
{
    /// <summary>One weight type's timings.</summary>
    internal sealed record Result(DType Type, double DecodeMs, double DecodeGflops, double WeightGbPerS, double PromptMs, double PromptGflops);

    private sealed class TriadWork(float* a, float* b, float* c, long n) : IParallelWork
    {
        public void Execute(int ith, int nth)
        {
            long per = (n / nth + 7) & ~7L;
            long start = Math.Min(n, per * ith), end = Math.Min(n, start + per);
            Vector256<float> s = Vector256.Create(3f);
            long i = start;
            for (; i + 8 <= end; i += 8)
            {
                Vector256.Store(Vector256.Load(b + i) + s * Vector256.Load(c + i), a + i);
            }
            for (; i < end; i++)
            {
                a[i] = b[i] + 3f * c[i];
            }
        }
    }

    private sealed class MatMulWork(MatMulOp op, Tensor node, nint work, long size, IBarrier barrier) : IParallelWork
    {
        public void Execute(int ith, int nth) => op.Compute(new ComputeParams(ith, nth, work, size, barrier), node);
    }

    /// <summary>STREAM triad a = b + s*c over 3 x 128 MiB, counted as 3 arrays moved per pass (GB/s, median).</summary>
    public static double Triad(WorkerPool pool, int reps)
    {
        const long n = 32L << 20;
        float* a = Alloc(n * 4), b = Alloc(n * 4), c = Alloc(n * 4);
        try
        {
            for (long i = 0; i < n; i++)
            {
                a[i] = 0; b[i] = 1; c[i] = 2;
            }
            var work = new TriadWork(a, b, c, n);
            double s = Median(pool, work, 1, Math.Max(3, reps));
            return 3.0 * n * 4 / s / 1e9;
        }
        finally
        {
            NativeMemory.AlignedFree(a);
            NativeMemory.AlignedFree(b);
            NativeMemory.AlignedFree(c);
        }
    }

    /// <summary>Times weights [k, n] of <paramref name="type"/> times one activation row, then times <paramref name="rows"/> rows.</summary>
    public static Result MatMul(WorkerPool pool, DType type, int k, int n, int rows, int reps, bool prompt)
    {
        Tensor w = Tensor.NewLeaf(type, k, n, 1, 1, "w");
        w.Data = (nint)Alloc(w.ByteSize);
        var allocs = new List<nint> { w.Data };
        try
        {
            FillWeights(w);
            var op = new MatMulOp();
            var rng = new Random(5);

            double Time(int m, int repetitions, int warmups)
            {
                Tensor x = Tensor.NewLeaf(DType.F32, k, m, 1, 1, "x");
                x.Data = (nint)Alloc(x.ByteSize);
                allocs.Add(x.Data);
                float* xp = (float*)x.Data;
                for (long i = 0; i < (long)k * m; i++)
                {
                    xp[i] = (float)(rng.NextDouble() * 2 - 1);
                }
                Tensor dst = new GraphBuilder().MatMul(w, x, "y");
                dst.Data = (nint)Alloc(dst.ByteSize);
                allocs.Add(dst.Data);
                if (!op.Supports(dst))
                {
                    throw new InvalidOperationException($"MatMulOp does not support {dst}.");
                }
                long ws = op.WorkSize(dst, pool.Threads);
                nint work = (nint)Alloc(ws);
                allocs.Add(work);
                return Median(pool, new MatMulWork(op, dst, work, ws, pool.Barrier), warmups, repetitions);
            }

            double decode = Time(1, reps, 2);
            double flops = 2.0 * k * n;
            double promptS = prompt ? Time(rows, Math.Max(2, reps / 3), 1) : 0;
            return new Result(type, decode * 1e3, flops / decode / 1e9, w.ByteSize / decode / 1e9,
                promptS * 1e3, prompt ? flops * rows / promptS / 1e9 : 0);
        }
        finally
        {
            foreach (nint p in allocs)
            {
                NativeMemory.AlignedFree((void*)p);
            }
        }
    }

    // 64 distinct rows through the reference quantizer, repeated over the matrix: the bytes streamed are the same
    // as for fully distinct rows (the matrix is far larger than the caches) and set-up stays fast.
    private static void FillWeights(Tensor w)
    {
        int k = (int)w.Ne[0];
        long rowBytes = w.RowBytes;
        int distinct = (int)Math.Min(64, w.Ne[1]);
        var rng = new Random(1234);
        var src = new float[k];
        var bytes = new byte[rowBytes];
        for (int r = 0; r < distinct; r++)
        {
            for (int i = 0; i < k; i++)
            {
                src[i] = (float)((rng.NextDouble() * 2 - 1) * 0.05);
            }
            Quantize.Row(w.Type, src, bytes);
            bytes.CopyTo(new Span<byte>((byte*)w.Data + r * rowBytes, (int)rowBytes));
        }
        for (long r = distinct; r < w.Ne[1]; r++)
        {
            Buffer.MemoryCopy((byte*)w.Data + r % distinct * rowBytes, (byte*)w.Data + r * rowBytes, rowBytes, rowBytes);
        }
    }

    /// <summary>
    /// Median seconds per run over <paramref name="reps"/> samples; a sample repeats the run until it lasts at least
    /// 50 ms (timer and CPU-time granularity). With <see cref="UseCpuTime"/>, the process CPU time per run divided
    /// by the thread count (meaningful on a machine shared with other load, where wall time is not; waiting worker
    /// threads spin, so it never undercounts).
    /// </summary>
    private static double Median(WorkerPool pool, IParallelWork work, int warmups, int reps)
    {
        long w0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < warmups; i++)
        {
            pool.Run(work);
        }
        double once = Stopwatch.GetElapsedTime(w0).TotalSeconds / Math.Max(1, warmups);
        int inner = (int)Math.Clamp(Math.Ceiling(0.05 / Math.Max(once, 1e-6)), 1, 1000);
        var times = new double[reps];
        using Process self = Process.GetCurrentProcess();
        for (int i = 0; i < reps; i++)
        {
            self.Refresh();
            TimeSpan cpu0 = self.TotalProcessorTime;
            long t0 = Stopwatch.GetTimestamp();
            for (int j = 0; j < inner; j++)
            {
                pool.Run(work);
            }
            times[i] = Stopwatch.GetElapsedTime(t0).TotalSeconds / inner;
            if (UseCpuTime)
            {
                self.Refresh();
                times[i] = (self.TotalProcessorTime - cpu0).TotalSeconds / pool.Threads / inner;
            }
        }
        Array.Sort(times);
        return times[reps / 2];
    }

    /// <summary>Report CPU seconds per thread instead of wall seconds (see <see cref="Median"/>).</summary>
    public static bool UseCpuTime { get; set; }

    private static float* Alloc(long bytes) => (float*)NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 64), 64);
}
