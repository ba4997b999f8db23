using System.Runtime.InteropServices;
using Weft.Core;

namespace Weft.Cpu.Tests.Ops;

/// <summary>
/// Test host for single ops: gives tensors native memory, runs an op's Compute for every thread index of nth
/// sequentially (the ops tested here use no barrier) with scratch sized by WorkSize.
/// </summary>
internal sealed unsafe class OpHost : IDisposable
{
    private readonly List<nint> _blocks = new();

    public nint Alloc(long bytes)
    {
        nint p = (nint)NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, 64), 64);
        new Span<byte>((void*)p, (int)Math.Max(bytes, 64)).Fill(0xCD); // garbage, so unwritten outputs show up
        _blocks.Add(p);
        return p;
    }

    /// <summary>Places a leaf or node tensor in fresh memory (views: at their source + offset).</summary>
    public Tensor Place(Tensor t)
    {
        if (t.ViewSrc is not null)
        {
            if (t.ViewSrc.Data == 0)
            {
                Place(t.ViewSrc);
            }
            t.Data = t.ViewSrc.Data + (nint)t.ViewOffset;
        }
        else if (t.Data == 0)
        {
            t.Data = Alloc(t.ByteSize);
        }
        return t;
    }

    public Tensor F32(float[] values, long ne0, long ne1 = 1, long ne2 = 1, long ne3 = 1, string name = "")
    {
        Tensor t = Place(Tensor.NewLeaf(DType.F32, ne0, ne1, ne2, ne3, name));
        t.SetData(values);
        return t;
    }

    public Tensor I32(int[] values, long ne0, long ne1 = 1, long ne2 = 1)
    {
        Tensor t = Place(Tensor.NewLeaf(DType.I32, ne0, ne1, ne2));
        values.CopyTo(new Span<int>((void*)t.Data, values.Length));
        return t;
    }

    public Tensor Bytes(DType type, byte[] bytes, long ne0, long ne1 = 1, long ne2 = 1, long ne3 = 1)
    {
        Tensor t = Place(Tensor.NewLeaf(type, ne0, ne1, ne2, ne3));
        bytes.CopyTo(new Span<byte>((void*)t.Data, bytes.Length));
        return t;
    }

    /// <summary>Runs <paramref name="op"/> on <paramref name="node"/> with nth threads (called in order ith = 0..nth-1).</summary>
    public void Run(ICpuOp op, Tensor node, int nth)
    {
        Assert.That(op.Supports(node), Is.True, $"{op.GetType().Name} does not support {node}");
        Place(node);
        long ws = op.WorkSize(node, nth);
        nint work = ws > 0 ? Alloc(ws) : 0;
        for (int ith = 0; ith < nth; ith++)
        {
            op.Compute(new ComputeParams(ith, nth, work, ws, null), node);
        }
    }

    /// <summary>F32 values of a contiguous tensor.</summary>
    public static float[] Read(Tensor t) => new ReadOnlySpan<float>((void*)t.Data, (int)t.ElementCount).ToArray();

    public static float[] Random(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        }
        return a;
    }

    /// <summary>
    /// Builds the node in a fresh host for nth = 1, 2, 3, runs it, asserts the three outputs are bit-identical and
    /// returns them (read with <paramref name="read"/>, default: the node's F32 values).
    /// </summary>
    public static float[] RunThreads(ICpuOp op, Func<OpHost, Tensor> build, Func<Tensor, float[]>? read = null)
    {
        float[]? first = null;
        for (int nth = 1; nth <= 3; nth++)
        {
            using var host = new OpHost();
            Tensor node = build(host);
            host.Run(op, node, nth);
            float[] result = (read ?? Read)(node);
            if (first is null)
            {
                first = result;
            }
            else
            {
                for (int i = 0; i < first.Length; i++)
                {
                    Assert.That(BitConverter.SingleToInt32Bits(result[i]), Is.EqualTo(BitConverter.SingleToInt32Bits(first[i])),
                        $"{op.GetType().Name}: nth={nth} differs from nth=1 at {i}");
                }
            }
        }
        return first!;
    }

    public static void AssertClose(double[] expected, float[] actual, double tol, string what)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), what);
        for (int i = 0; i < expected.Length; i++)
        {
            if (!(Math.Abs(expected[i] - actual[i]) <= tol * (1 + Math.Abs(expected[i]))))
            {
                Assert.Fail($"{what}: element {i}: expected {expected[i]:R}, got {actual[i]:R}");
            }
        }
    }

    public void Dispose()
    {
        foreach (nint p in _blocks)
        {
            NativeMemory.AlignedFree((void*)p);
        }
        _blocks.Clear();
    }
}
