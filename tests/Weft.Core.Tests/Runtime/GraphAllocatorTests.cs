using Weft.Core;

namespace Weft.Core.Tests.Runtime;

public class GraphAllocatorTests
{
    // x → scale → scale → ... (n nodes of 1 KiB each): only two nodes are ever live at once.
    private static (Graph Graph, Tensor X, List<Tensor> Chain) Chain(int n)
    {
        var g = new GraphBuilder();
        Tensor x = g.Input(DType.F32, 256, name: "x");
        var chain = new List<Tensor>();
        Tensor cur = x;
        for (int i = 0; i < n; i++)
        {
            cur = g.Scale(cur, 2f, $"s{i}");
            chain.Add(cur);
        }
        return (g.Build(cur), x, chain);
    }

    [Test]
    public void ChainPeakIsFarBelowSumOfNodes()
    {
        (Graph graph, Tensor x, List<Tensor> chain) = Chain(20);
        using var alloc = new GraphAllocator(new TestBufferType());
        Assert.That(alloc.Plan(graph), Is.EqualTo(Status.Success));
        long sum = chain.Sum(t => t.ByteSize) + x.ByteSize;
        // Input (never reused) + two live chain nodes at any time.
        Assert.That(alloc.PeakBytes, Is.EqualTo(3 * 1024));
        Assert.That(alloc.PeakBytes, Is.LessThan(sum));
        Assert.That(x.Data, Is.Not.EqualTo((nint)0));
        foreach (Tensor t in chain)
        {
            Assert.That(t.Buffer, Is.SameAs(alloc.Buffer));
            Assert.That(t.Offset % 32, Is.Zero, "aligned");
        }
    }

    [Test]
    public void ReplanReusesArenaAndOffsets()
    {
        (Graph graph, _, List<Tensor> chain) = Chain(8);
        var bt = new TestBufferType();
        using var alloc = new GraphAllocator(bt);
        alloc.Plan(graph);
        long[] first = chain.Select(t => t.Offset).ToArray();
        IBuffer? arena = alloc.Buffer;
        alloc.Plan(graph);
        Assert.That(alloc.Buffer, Is.SameAs(arena));
        Assert.That(bt.Allocations, Is.EqualTo(1));
        Assert.That(chain.Select(t => t.Offset).ToArray(), Is.EqualTo(first));
    }

    [Test]
    public void ReplanAllocatesNothingOnTheManagedHeap()
    {
        (Graph graph, _, _) = Chain(50);
        using var alloc = new GraphAllocator(new TestBufferType());
        alloc.Plan(graph);
        alloc.Plan(graph);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++)
        {
            alloc.Plan(graph);
        }
        long after = GC.GetAllocatedBytesForCurrentThread();
        Assert.That(after - before, Is.Zero);
    }

    [Test]
    public void ViewsAliasTheirSourceAndKeepItAlive()
    {
        var g = new GraphBuilder();
        Tensor x = g.Input(DType.F32, 8, 4, name: "x");
        Tensor a = g.Scale(x, 2f, "a");
        Tensor t = g.Transpose(a, "aT");
        Tensor r = g.Reshape(g.Cont(t, "c"), 32, name: "r");
        Tensor b = g.Scale(g.Scale(r, 3f, "b1"), 1f, "b2");
        Tensor late = g.Add(g.Reshape(b, 4, 8), t, "late");   // reads the transpose view of a at the end
        using var alloc = new GraphAllocator(new TestBufferType());
        alloc.Plan(g.Build(late));
        Assert.That(t.Buffer, Is.SameAs(a.Buffer));
        Assert.That(t.Offset, Is.EqualTo(a.Offset));
        Assert.That(t.Data, Is.EqualTo(a.Data));
        // a must stay live until "late": nothing allocated after it may overlap it.
        foreach (Tensor other in new[] { b, late, r.ViewSrc!, })
        {
            Assert.That(Overlaps(a, other), Is.False, $"'{other.Name}' overlaps 'a' while a view of 'a' is still to be read");
        }
    }

    [Test]
    public void OutputsAndInputsAreNeverReused()
    {
        var g = new GraphBuilder();
        Tensor x = g.Input(DType.F32, 64, name: "x");
        Tensor o1 = g.Scale(x, 2f, "o1");
        Tensor c = g.Scale(g.Scale(o1, 2f, "m1"), 2f, "m2");
        Tensor o2 = g.Scale(c, 2f, "o2");
        Graph graph = g.Build(o1, o2);
        using var alloc = new GraphAllocator(new TestBufferType());
        alloc.Plan(graph);
        // A kept tensor may take memory freed before it was computed, but nothing computed after it may take its memory.
        var all = graph.Leaves.Concat(graph.Nodes).ToList();
        foreach (Tensor keep in new[] { x, o1, o2 })
        {
            foreach (Tensor other in all.Skip(all.IndexOf(keep) + 1))
            {
                {
                    Assert.That(Overlaps(keep, other), Is.False, $"'{keep.Name}' shares memory with '{other.Name}'");
                }
            }
        }
    }

    [Test]
    public void ExternallyPlacedTensorsStayWhereTheyAre()
    {
        var bt = new TestBufferType();
        using IBuffer weights = bt.Allocate(4096);
        Tensor w = Tensor.NewLeaf(DType.F32, 16, 16, name: "w");
        w.Flags |= TensorFlags.Weight;
        w.Buffer = weights;
        w.Offset = 1024;
        w.Data = weights.HostPointer + 1024;
        var g = new GraphBuilder();
        Tensor y = g.MatMul(w, g.Input(DType.F32, 16, 2, name: "x"));
        using var alloc = new GraphAllocator(bt);
        alloc.Plan(g.Build(y));
        Assert.That(w.Buffer, Is.SameAs(weights));
        Assert.That(w.Offset, Is.EqualTo(1024));
        Assert.That(y.Buffer, Is.SameAs(alloc.Buffer));
    }

    // Random DAGs: any two tensors that are live at the same time get disjoint memory. Lifetimes are computed here
    // independently of the planner: from the node's step to its last reader's step (through views), or forever.
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void RandomGraphsNeverOverlapLiveTensors(int seed)
    {
        var rng = new Random(20261122 + seed);
        var g = new GraphBuilder();
        var pool = new List<Tensor> { g.Input(DType.F32, 32, 4, name: "in0"), g.Input(DType.F32, 32, 4, name: "in1") };
        for (int i = 0; i < 60; i++)
        {
            Tensor a = pool[rng.Next(pool.Count)], b = pool[rng.Next(pool.Count)];
            Tensor n = rng.Next(5) switch
            {
                0 => g.Add(a, b, $"n{i}"),
                1 => g.Mul(a, b, $"n{i}"),
                2 => g.Scale(a, 0.5f, $"n{i}"),
                3 => g.Reshape(g.Cont(g.Transpose(g.Reshape(a, 4, 32)), $"n{i}c"), 32, 4, name: $"n{i}"),
                _ => g.Scale(g.Transpose(g.Transpose(a)), 1f, $"n{i}"),
            };
            pool.Add(n);
        }
        Graph graph = g.Build(pool[^1], pool[^7]);
        using var alloc = new GraphAllocator(new TestBufferType());
        alloc.Plan(graph);

        IReadOnlyList<Tensor> nodes = graph.Nodes;
        var step = new Dictionary<Tensor, int>();
        foreach (Tensor l in graph.Leaves)
        {
            step[l] = -1;
        }
        for (int i = 0; i < nodes.Count; i++)
        {
            step[nodes[i]] = i;
        }
        var lastUse = new Dictionary<Tensor, int>();
        foreach (Tensor t in step.Keys)
        {
            lastUse[Root(t)] = Math.Max(lastUse.GetValueOrDefault(Root(t), -1), step[t]);
        }
        for (int i = 0; i < nodes.Count; i++)
        {
            for (int j = 0; j < Tensor.MaxSrc; j++)
            {
                if (nodes[i].Src[j] is Tensor s)
                {
                    lastUse[Root(s)] = Math.Max(lastUse[Root(s)], i);
                }
            }
        }
        foreach (Tensor o in graph.Outputs)
        {
            lastUse[Root(o)] = int.MaxValue;
        }
        var owners = step.Keys.Where(t => t.ViewSrc is null).ToList();
        foreach (Tensor l in graph.Leaves)
        {
            lastUse[l] = int.MaxValue;
        }
        for (int i = 0; i < owners.Count; i++)
        {
            for (int j = i + 1; j < owners.Count; j++)
            {
                Tensor p = owners[i], q = owners[j];
                bool liveTogether = step[p] <= lastUse[q] && step[q] <= lastUse[p];
                if (liveTogether)
                {
                    Assert.That(Overlaps(p, q), Is.False, $"'{p.Name}' [{step[p]}..{lastUse[p]}] and '{q.Name}' [{step[q]}..{lastUse[q]}] overlap");
                }
            }
        }
        long sum = owners.Sum(t => (t.ByteSize + 31) / 32 * 32);
        Assert.That(alloc.PeakBytes, Is.LessThan(sum));
    }

    private static Tensor Root(Tensor t) => t.ViewRoot;

    private static bool Overlaps(Tensor a, Tensor b) =>
        ReferenceEquals(a.Buffer, b.Buffer) && a.Offset < b.Offset + Math.Max(1, b.ByteSize) && b.Offset < a.Offset + Math.Max(1, a.ByteSize);

    [Test]
    public void RejectsBadArguments()
    {
        Assert.Throws<ArgumentNullException>(() => new GraphAllocator(null!));
        Assert.Throws<ArgumentException>(() => new GraphAllocator(new TestBufferType(alignment: 24)));
        var alloc = new GraphAllocator(new TestBufferType());
        Assert.Throws<ArgumentNullException>(() => alloc.Plan(null!));
        alloc.Dispose();
        Assert.Throws<ObjectDisposedException>(() => alloc.Plan(Chain(2).Graph));
    }
}
