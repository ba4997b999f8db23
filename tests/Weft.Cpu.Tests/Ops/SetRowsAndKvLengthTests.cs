using Weft.Core;
using Weft.Core.Quants;

namespace Weft.Cpu.Tests.Ops;

/// <summary>SetRows scatters converted rows; FlashAttn with a run-time kv length equals the static n_past form.</summary>
public class SetRowsAndKvLengthTests
{
    private static unsafe void Fill(Tensor t, Func<int, float> f)
    {
        var span = new Span<float>((void*)t.Data, (int)t.ElementCount);
        for (int i = 0; i < span.Length; i++) span[i] = f(i);
    }

    private static unsafe void SetInts(Tensor t, params int[] v) => v.CopyTo(new Span<int>((void*)t.Data, v.Length));

    [TestCase(DType.F32)]
    [TestCase(DType.F16)]
    [TestCase(DType.Q8_0)]
    public unsafe void SetRowsWritesConvertedRowsAtTheGivenIds(DType type)
    {
        using var cpu = new CpuBackend(2);
        var g = new GraphBuilder();
        using var cacheBuf = new HostBuffer(TypeTraits.Of(type).RowSize(64) * 5);
        Tensor cache = Tensor.NewLeaf(type, 64, 5, name: "cache");
        cache.Buffer = cacheBuf; cache.Data = cacheBuf.HostPointer;
        Tensor values = g.Input(DType.F32, 64, 3, name: "values");
        Tensor ids = g.Input(DType.I32, 3, name: "ids");
        Tensor w = g.SetRows(cache, values, ids);
        var sched = new Scheduler(cpu);
        Assert.That(sched.Allocate(g.Build(w)), Is.EqualTo(Status.Success));
        Fill(values, i => MathF.Sin(i * 0.1f));
        SetInts(ids, 4, 0, 2);
        Assert.That(sched.Compute(g.Build(w)), Is.EqualTo(Status.Success));
        var row = new float[64];
        var expected = new float[64];
        int[] target = [4, 0, 2];
        for (int r = 0; r < 3; r++)
        {
            Dequantize.Row(type, new ReadOnlySpan<byte>((byte*)cache.Data + target[r] * cache.Nb[1], (int)cache.Nb[1]), row);
            var bytes = new byte[cache.Nb[1]];
            float[] src = Enumerable.Range(r * 64, 64).Select(i => MathF.Sin(i * 0.1f)).ToArray();
            Quantize.Row(type, src, bytes);
            Dequantize.Row(type, bytes, expected);
            Assert.That(row, Is.EqualTo(expected), $"row {target[r]}");
        }
        // Rows not written stay zero.
        Dequantize.Row(type, new ReadOnlySpan<byte>((byte*)cache.Data + 1 * cache.Nb[1], (int)cache.Nb[1]), row);
        Assert.That(row, Is.All.EqualTo(0f));
    }

    [Test]
    public unsafe void SetRowsRejectsAnOutOfRangeId()
    {
        using var cpu = new CpuBackend(1);
        var g = new GraphBuilder();
        using var cacheBuf = new HostBuffer(4 * 8 * 2);
        Tensor cache = Tensor.NewLeaf(DType.F32, 8, 2, name: "cache");
        cache.Buffer = cacheBuf; cache.Data = cacheBuf.HostPointer;
        Tensor values = g.Input(DType.F32, 8, 1);
        Tensor ids = g.Input(DType.I32, 1);
        Tensor w = g.SetRows(cache, values, ids);
        Graph graph = g.Build(w);
        var sched = new Scheduler(cpu);
        sched.Allocate(graph);
        SetInts(ids, 2);
        var ex = Assert.Throws<InvalidOperationException>(() => sched.Compute(graph));
        Assert.That(ex!.ToString(), Does.Contain("row id 2 is outside"));
    }

    [TestCase(1, 7)]
    [TestCase(3, 9)]
    public void FlashAttnWithRunTimeKvLengthMatchesStaticNPast(int nQ, int kvLen)
    {
        const int d = 16, heads = 4, kvHeads = 2, capacity = 12;
        float[] Run(bool dynamic)
        {
            using var cpu = new CpuBackend(2);
            var g = new GraphBuilder();
            Tensor q = g.Input(DType.F32, d, nQ, heads, name: "q");
            Tensor kFull = g.Input(DType.F32, d, capacity, kvHeads, name: "k");
            Tensor vFull = g.Input(DType.F32, d, capacity, kvHeads, name: "v");
            Tensor? len = dynamic ? g.Input(DType.I32, 1, name: "len") : null;
            Tensor k = dynamic ? kFull : g.View(kFull, Long4.Of(d, kvLen, kvHeads), kFull.Nb[1], kFull.Nb[2], kFull.Nb[3], 0);
            Tensor v = dynamic ? vFull : g.View(vFull, Long4.Of(d, kvLen, kvHeads), vFull.Nb[1], vFull.Nb[2], vFull.Nb[3], 0);
            Tensor o = g.FlashAttn(q, k, v, 0.25f, causal: true, nPast: dynamic ? 0 : kvLen - nQ, kvLength: len);
            Graph graph = g.Build(o);
            var sched = new Scheduler(cpu);
            sched.Allocate(graph);
            Fill(q, i => MathF.Cos(i * 0.37f));
            Fill(kFull, i => MathF.Sin(i * 0.11f));
            Fill(vFull, i => MathF.Cos(i * 0.07f) - 0.5f);
            if (len is not null) SetInts(len, kvLen);
            Assert.That(sched.Compute(graph), Is.EqualTo(Status.Success));
            return o.ToFloatArray();
        }
        Assert.That(Run(dynamic: true), Is.EqualTo(Run(dynamic: false)));
    }
}
