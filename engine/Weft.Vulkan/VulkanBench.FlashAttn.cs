using System.Runtime.InteropServices;
using Weft.Core;
using Weft.Core.Quants;

namespace Weft.Vulkan;

public static partial class VulkanBench
{
    /// <summary>
    /// Times one decode step of flash attention on <paramref name="device"/>: one query row of <paramref name="heads"/>
    /// heads of width <paramref name="headSize"/> against a full cache of <paramref name="kvLength"/> keys and values of
    /// <paramref name="kvType"/> (as many KV heads as heads), causal, scale 1/√headSize: one warm-up, then the median
    /// wall time of <paramref name="reps"/> submit-and-wait runs.
    /// </summary>
    /// <returns>Milliseconds per attention step.</returns>
    /// <exception cref="NotSupportedException">The device's flash-attention shader does not take these shapes or types.</exception>
    public static double FlashAttnDecodeMilliseconds(VulkanDevice device, DType kvType = DType.F16, int headSize = 128, int heads = 32, int kvLength = 4096, int reps = 5)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfLessThan(headSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(heads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kvLength, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(reps, 1);
        var rng = new Random(42);
        var q = Tensor.NewLeaf(DType.F32, headSize, 1, heads, name: "q");
        var k = Tensor.NewLeaf(kvType, headSize, kvLength, heads, name: "k");
        var v = Tensor.NewLeaf(kvType, headSize, kvLength, heads, name: "v");
        var g = new GraphBuilder();
        Tensor y = g.FlashAttn(q, k, v, 1f / MathF.Sqrt(headSize), causal: true, nPast: kvLength - 1, name: "attn");
        if (!device.Supports(y))
        {
            throw new NotSupportedException($"{device.Name} has no flash-attention kernel for {TypeTraits.Of(kvType).Name} K/V with head size {headSize}.");
        }
        IBufferType bt = device.DefaultBufferType;
        using IBuffer qb = bt.Allocate(q.ByteSize);
        using IBuffer kb = bt.Allocate(k.ByteSize);
        using IBuffer vb = bt.Allocate(v.ByteSize);
        using IBuffer yb = bt.Allocate(y.ByteSize);
        var row = new float[headSize];
        var all = new byte[k.ByteSize];
        foreach (IBuffer b in new[] { kb, vb })
        {
            for (long r = 0; r < (long)kvLength * heads; r++)
            {
                Fill(rng, row);
                Quantize.Row(kvType, row, all.AsSpan((int)(r * k.RowBytes), (int)k.RowBytes));
            }
            b.Write(0, all);
        }
        var qv = new float[headSize * heads];
        Fill(rng, qv);
        qb.Write(0, MemoryMarshal.AsBytes(qv.AsSpan()));
        (q.Buffer, k.Buffer, v.Buffer, y.Buffer) = (qb, kb, vb, yb);
        return MedianMilliseconds(device, Graph.FromParts([y], [q, k, v], [y]), reps);
    }

    private static void Fill(Random rng, float[] values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(rng.NextDouble() * 2 - 1);
        }
    }
}
