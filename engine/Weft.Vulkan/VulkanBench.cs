using System.Diagnostics;
using Weft.Core;
using Weft.Core.Quants;

namespace Weft.Vulkan;

/// <summary>Micro-benchmarks of Vulkan kernels (used by <c>weft devices --bench</c>).</summary>
public static partial class VulkanBench
{
    /// <summary>
    /// Times an <paramref name="n"/>×<paramref name="n"/> weight of <paramref name="type"/> times an F32 vector on
    /// <paramref name="device"/>: one warm-up, then the median wall time of <paramref name="reps"/> submit-and-wait runs.
    /// </summary>
    /// <returns>Milliseconds per matrix × vector.</returns>
    /// <exception cref="NotSupportedException">No shader reads <paramref name="type"/>.</exception>
    public static double MatVecMilliseconds(VulkanDevice device, DType type, int n = 4096, int reps = 5)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 256);
        ArgumentOutOfRangeException.ThrowIfLessThan(reps, 1);
        var rng = new Random(42);
        var w = Tensor.NewLeaf(type, n, n, name: "w");
        var x = Tensor.NewLeaf(DType.F32, n, name: "x");
        var g = new GraphBuilder();
        Tensor y = g.MatMul(w, x, "y");
        if (!device.Supports(y))
        {
            throw new NotSupportedException($"{device.Name} has no matrix × vector kernel for {TypeTraits.Of(type).Name}.");
        }
        IBufferType bt = device.DefaultBufferType;
        using IBuffer wb = bt.Allocate(w.ByteSize);
        using IBuffer xb = bt.Allocate(x.ByteSize);
        using IBuffer yb = bt.Allocate(y.ByteSize);
        var row = new float[n];
        var q = new byte[w.RowBytes];
        for (int r = 0; r < n; r++)
        {
            for (int i = 0; i < n; i++)
            {
                row[i] = (float)(rng.NextDouble() * 2 - 1);
            }
            Quantize.Row(type, row, q);
            wb.Write(r * w.RowBytes, q);
        }
        for (int i = 0; i < n; i++)
        {
            row[i] = (float)(rng.NextDouble() * 2 - 1);
        }
        xb.Write(0, System.Runtime.InteropServices.MemoryMarshal.AsBytes(row.AsSpan()));
        (w.Buffer, x.Buffer, y.Buffer) = (wb, xb, yb);
        return MedianMilliseconds(device, Graph.FromParts([y], [w, x], [y]), reps);
    }

    // Runs the graph once (warm-up, and a check that it runs), then returns the median wall time of reps runs.
    private static double MedianMilliseconds(VulkanDevice device, Graph graph, int reps)
    {
        using IBackend backend = device.CreateBackend();
        if (backend.Compute(graph) != Status.Success)
        {
            throw new InvalidOperationException($"{device.Name}: the benchmark graph failed.");
        }
        var times = new double[reps];
        for (int i = 0; i < reps; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            backend.Compute(graph);
            backend.Synchronize();
            times[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
        Array.Sort(times);
        return times[reps / 2];
    }
}
