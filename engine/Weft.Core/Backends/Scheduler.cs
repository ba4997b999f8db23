namespace Weft.Core;

/// <summary>
/// Runs a graph over several backends (ggml_backend_sched style): assigns each node to a backend, splits the graph
/// into per-backend runs, places memory per backend and copies tensors that cross from one backend to another.
/// </summary>
/// <remarks>
/// <para><b>The backend interface.</b> An <see cref="IBackendRegistry"/> (one per family: Vulkan, CPU) lists
/// <see cref="IDevice"/>s; a device says which nodes it <see cref="IDevice.Supports"/>, which
/// <see cref="IBufferType"/>s it can use and creates <see cref="IBackend"/> streams; a buffer type allocates
/// <see cref="IBuffer"/>s, in which tensors are placed (<see cref="GraphAllocator"/>). <see cref="BackendRegistry.Default"/>
/// lists the families found, GPUs first and the CPU last.</para>
/// <para><b>Assignment.</b> Backends are given in priority order (Vulkan first, CPU last). A node that reads a weight
/// (<see cref="TensorFlags.Weight"/>) living in memory of a backend that supports the node runs there; otherwise
/// on the first backend whose device supports it. Views go where their source lives; a <see cref="OpKind.Cpy"/>
/// runs where its destination lives. Inputs without memory are placed in the memory of the lowest-priority backend
/// whose buffers are host memory (the CPU), so the host writes them with <see cref="Tensor.SetData"/>.</para>
/// <para><b>Copies.</b> When a node reads a tensor that lives on another backend, the tensor is copied (once per
/// evaluation and consuming backend) into a tensor of the same layout in the consumer's memory before the
/// consumer's split runs; during the split the node reads the copy (its <see cref="Tensor.Src"/> slot is swapped
/// for the split's duration and restored afterwards).</para>
/// <example><code>
/// using var gpu = vulkanDevice.CreateBackend();
/// using var cpu = new CpuBackend();
/// using var sched = new Scheduler(gpu, cpu);            // priority order: GPU first, CPU fallback
/// var g = new GraphBuilder();
/// Tensor x = g.Input(DType.F32, 64, 1, name: "x");
/// Tensor y = g.MatMul(weightOnGpu, g.RmsNorm(x, 1e-5f));
/// Graph graph = g.Build(y);
/// sched.Allocate(graph);                                 // assign, split, place (x lands in CPU memory)
/// x.SetData(values);
/// if (sched.Compute(graph) != Status.Success) { ... }
/// float[] result = y.ToFloatArray();                     // reads through the buffer when y is on the GPU
/// Console.WriteLine(sched.BackendOf(y).Name);
/// </code></example>
/// </remarks>
public sealed class Scheduler : IDisposable
{
    private const int CopyChunk = 1 << 28;
    private readonly IBackend[] _backends;
    private readonly GraphAllocator[] _allocators;
    private readonly Dictionary<Tensor, int> _home = new();
    private readonly Dictionary<Tensor, IBackend> _assignments = new();
    private readonly List<SchedulerSplit> _splits = new();
    private Graph? _graph;
    private byte[] _staging = [];
    private bool _disposed;

    /// <summary>Creates a scheduler over <paramref name="backends"/> in priority order; the last is the fallback (normally the CPU).</summary>
    /// <exception cref="ArgumentException">No backend, a null one, or the same backend twice.</exception>
    public Scheduler(params IBackend[] backends)
    {
        ArgumentNullException.ThrowIfNull(backends);
        if (backends.Length == 0)
        {
            throw new ArgumentException("A scheduler needs at least one backend (put the CPU backend last as the fallback).", nameof(backends));
        }
        for (int i = 0; i < backends.Length; i++)
        {
            if (backends[i] is null)
            {
                throw new ArgumentException($"Backend {i} is null.", nameof(backends));
            }
            for (int j = 0; j < i; j++)
            {
                if (ReferenceEquals(backends[i], backends[j]))
                {
                    throw new ArgumentException($"Backend '{backends[i].Name}' is given twice.", nameof(backends));
                }
            }
        }
        _backends = (IBackend[])backends.Clone();
        _allocators = new GraphAllocator[backends.Length];
        for (int i = 0; i < backends.Length; i++)
        {
            _allocators[i] = new GraphAllocator(backends[i].Device.DefaultBufferType);
        }
    }

    /// <summary>The backends in priority order.</summary>
    public IReadOnlyList<IBackend> Backends => _backends;

    /// <summary>The backend of every node of the last allocated graph (for tests and profiles).</summary>
    public IReadOnlyDictionary<Tensor, IBackend> Assignments => _assignments;

    /// <summary>The splits of the last allocated graph, in evaluation order.</summary>
    public IReadOnlyList<SchedulerSplit> Splits => _splits;

    /// <summary>The memory planner of each backend (same order as <see cref="Backends"/>).</summary>
    public IReadOnlyList<GraphAllocator> Allocators => _allocators;

    /// <summary>The backend computing <paramref name="node"/> in the last allocated graph.</summary>
    /// <exception cref="KeyNotFoundException">The node is not in that graph.</exception>
    public IBackend BackendOf(Tensor node) =>
        _assignments.TryGetValue(node, out IBackend? b) ? b : throw new KeyNotFoundException($"Node '{node.Name}' is not in the graph last allocated by this scheduler.");

    /// <summary>Assigns, splits and places <paramref name="graph"/>; after this, inputs have memory and can be written.</summary>
    /// <returns><see cref="Status.Success"/> or <see cref="Status.AllocFailed"/>.</returns>
    /// <exception cref="NotSupportedException">No backend supports a node, or a tensor lives in memory no backend can use.</exception>
    public Status Allocate(Graph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _graph = null;
        Assign(graph);
        BuildSplits(graph);
        Status st = PlaceMemory(graph);
        if (st == Status.Success)
        {
            _graph = graph;
        }
        return st;
    }

    /// <summary>Computes <paramref name="graph"/> (allocating it first when it is not the last allocated graph) and waits for it.</summary>
    /// <returns><see cref="Status.Success"/>, or the first failure of a backend or of the allocation.</returns>
    public Status Compute(Graph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!ReferenceEquals(graph, _graph))
        {
            Status st = Allocate(graph);
            if (st != Status.Success)
            {
                return st;
            }
        }
        for (int k = 0; k < _splits.Count; k++)
        {
            SchedulerSplit split = _splits[k];
            for (int i = 0; i < split.InputList.Count; i++)
            {
                TensorCopy c = split.InputList[i];
                _backends[HomeOf(c.Source)].Synchronize();
                if (!split.Backend.TryCopyTensorAsync(c.Source, c.Copy))
                {
                    CopyThroughHost(c.Source, c.Copy);
                }
            }
            List<(Tensor Node, int Slot, Tensor Original, Tensor Copy)> rw = split.Rewrites;
            Status status;
            try
            {
                for (int i = 0; i < rw.Count; i++)
                {
                    rw[i].Node.Src[rw[i].Slot] = rw[i].Copy;
                }
                status = split.Backend.Compute(split.Graph);
            }
            finally
            {
                for (int i = 0; i < rw.Count; i++)
                {
                    rw[i].Node.Src[rw[i].Slot] = rw[i].Original;
                }
            }
            if (status != Status.Success)
            {
                return status;
            }
        }
        for (int i = 0; i < _backends.Length; i++)
        {
            _backends[i].Synchronize();
        }
        return Status.Success;
    }

    private int Fallback => _backends.Length - 1;

    // The lowest-priority backend whose memory is host memory (the CPU), or the fallback when none is.
    private int InputHome
    {
        get
        {
            for (int i = _backends.Length - 1; i >= 0; i--)
            {
                if (_backends[i].Device.DefaultBufferType.IsHost)
                {
                    return i;
                }
            }
            return Fallback;
        }
    }

    private int HomeOf(Tensor t) => _home.TryGetValue(t, out int b) ? b : LeafHome(t);

    private bool IsOurs(Tensor leaf, out int index)
    {
        for (int i = 0; i < _allocators.Length; i++)
        {
            if (ReferenceEquals(leaf.PlacedBy, _allocators[i]))
            {
                index = i;
                return true;
            }
        }
        index = -1;
        return false;
    }

    private int LeafHome(Tensor leaf)
    {
        if (IsOurs(leaf, out int ours))
        {
            return ours;
        }
        if (leaf.Buffer is null)
        {
            // Unplaced inputs go to host memory so the host can write them; so does host memory that is not a buffer.
            return InputHome;
        }
        IBufferType? bt = leaf.Buffer.BufferType;
        if (bt is not null)
        {
            for (int i = 0; i < _backends.Length; i++)
            {
                if (_backends[i].Device.SupportsBufferType(bt))
                {
                    return i;
                }
            }
        }
        if (leaf.Buffer.HostPointer != 0)
        {
            return InputHome;
        }
        throw new NotSupportedException($"Tensor '{leaf.Name}' lives in a buffer of type '{bt?.Name ?? "unknown"}' that no backend of this scheduler can use; add that buffer's backend to the scheduler.");
    }

    private void Assign(Graph graph)
    {
        _home.Clear();
        _assignments.Clear();
        IReadOnlyList<Tensor> leaves = graph.Leaves;
        for (int i = 0; i < leaves.Count; i++)
        {
            _home[leaves[i]] = LeafHome(leaves[i]);
        }
        IReadOnlyList<Tensor> nodes = graph.Nodes;
        for (int i = 0; i < nodes.Count; i++)
        {
            Tensor n = nodes[i];
            int b;
            if (n.ViewSrc is not null)
            {
                b = HomeOf(n.ViewSrc);
                if (n.Op != OpKind.Reshape && n.Op != OpKind.View && n.Op != OpKind.Permute && n.Op != OpKind.Transpose && !_backends[b].Device.Supports(n))
                {
                    throw new NotSupportedException($"Node '{n.Name}' ({n.Op}) writes into '{n.ViewSrc.Name}', which lives on backend '{_backends[b].Name}', and that backend does not support it.");
                }
            }
            else
            {
                b = WeightBackend(n);
                if (b < 0)
                {
                    for (int k = 0; k < _backends.Length; k++)
                    {
                        if (_backends[k].Device.Supports(n))
                        {
                            b = k;
                            break;
                        }
                    }
                }
                if (b < 0)
                {
                    throw new NotSupportedException($"No backend supports node '{n.Name}' ({n.Op}, {n.Traits.Name} {n.Ne}, sources {DescribeSources(n)}); backends: {string.Join(", ", _backends.Select(x => x.Name))}. Add the CPU backend last as the fallback.");
                }
            }
            _home[n] = b;
            _assignments[n] = _backends[b];
        }
    }

    private int WeightBackend(Tensor n)
    {
        for (int j = 0; j < Tensor.MaxSrc; j++)
        {
            Tensor? s = n.Src[j];
            if (s is null)
            {
                continue;
            }
            Tensor r = s.ViewRoot;
            if (r.Op == OpKind.None && (r.Flags & TensorFlags.Weight) != 0 && r.Buffer is not null)
            {
                int wb = HomeOf(r);
                if (_backends[wb].Device.Supports(n))
                {
                    return wb;
                }
            }
        }
        return -1;
    }

    private static string DescribeSources(Tensor n)
    {
        var parts = new List<string>();
        for (int j = 0; j < Tensor.MaxSrc; j++)
        {
            if (n.Src[j] is Tensor s)
            {
                parts.Add($"'{s.Name}' {s.Traits.Name} {s.Ne}");
            }
        }
        return string.Join(", ", parts);
    }

    private void BuildSplits(Graph graph)
    {
        _splits.Clear();
        var copies = new Dictionary<(Tensor, int), Tensor>();
        IReadOnlyList<Tensor> nodes = graph.Nodes;
        SchedulerSplit? cur = null;
        for (int i = 0; i < nodes.Count; i++)
        {
            Tensor n = nodes[i];
            int b = _home[n];
            if (cur is null || cur.BackendIndex != b)
            {
                cur = new SchedulerSplit(b, _backends[b]);
                _splits.Add(cur);
            }
            cur.NodeList.Add(n);
            for (int j = 0; j < Tensor.MaxSrc; j++)
            {
                Tensor? s = n.Src[j];
                if (s is null || ReferenceEquals(s, n.ViewSrc))
                {
                    continue;
                }
                int hs = HomeOf(s);
                if (hs == b)
                {
                    continue;
                }
                if (!copies.TryGetValue((s, b), out Tensor? c))
                {
                    c = new Tensor { Type = s.Type, Ne = s.Ne, Nb = s.Nb, Name = $"{s.Name}#{_backends[b].Name}" };
                    copies.Add((s, b), c);
                    cur.InputList.Add(new TensorCopy(s, c));
                }
                cur.Rewrites.Add((n, j, s, c));
            }
        }
        foreach (SchedulerSplit split in _splits)
        {
            var inSplit = new HashSet<Tensor>(split.NodeList);
            var leaves = new List<Tensor>();
            var seen = new HashSet<Tensor>();
            foreach (Tensor n in split.NodeList)
            {
                for (int j = 0; j < Tensor.MaxSrc; j++)
                {
                    Tensor? s = n.Src[j];
                    if (s is null)
                    {
                        continue;
                    }
                    foreach (var rw in split.Rewrites)
                    {
                        if (ReferenceEquals(rw.Node, n) && rw.Slot == j)
                        {
                            s = rw.Copy;
                        }
                    }
                    if (!inSplit.Contains(s) && seen.Add(s))
                    {
                        leaves.Add(s);
                    }
                }
            }
            split.Graph = Graph.FromParts(split.NodeList, leaves, split.NodeList.Where(x => (x.Flags & TensorFlags.Output) != 0));
        }
    }

    private Status PlaceMemory(Graph graph)
    {
        int nb = _backends.Length;
        var nodes = new List<Tensor>[nb];
        var leaves = new List<Tensor>[nb];
        var keep = new List<Tensor>[nb];
        for (int i = 0; i < nb; i++)
        {
            nodes[i] = new List<Tensor>();
            leaves[i] = new List<Tensor>();
            keep[i] = new List<Tensor>();
        }
        foreach (Tensor n in graph.Nodes)
        {
            nodes[_home[n]].Add(n);
        }
        foreach (Tensor l in graph.Leaves)
        {
            if ((l.Buffer is null && l.Data == 0) || IsOurs(l, out _))
            {
                leaves[_home[l]].Add(l);
            }
        }
        foreach (Tensor o in graph.Outputs)
        {
            keep[HomeOf(o)].Add(o);
        }
        long staging = 0;
        foreach (SchedulerSplit split in _splits)
        {
            foreach (TensorCopy c in split.InputList)
            {
                leaves[split.BackendIndex].Add(c.Copy);
                keep[HomeOf(c.Source)].Add(c.Source);
                staging = Math.Max(staging, Math.Min(c.Source.ByteSize, CopyChunk));
            }
        }
        for (int i = 0; i < nb; i++)
        {
            if (nodes[i].Count == 0 && leaves[i].Count == 0)
            {
                continue;
            }
            Status st = _allocators[i].Plan(Graph.FromParts(nodes[i], leaves[i], keep[i]));
            if (st != Status.Success)
            {
                return st;
            }
        }
        if (_staging.Length < staging)
        {
            _staging = new byte[staging];
        }
        return Status.Success;
    }

    private unsafe void CopyThroughHost(Tensor src, Tensor dst)
    {
        long size = src.ByteSize;
        for (long done = 0; done < size; done += CopyChunk)
        {
            int n = (int)Math.Min(CopyChunk, size - done);
            if (src.Data != 0 && dst.Data != 0)
            {
                Buffer.MemoryCopy((byte*)src.Data + done, (byte*)dst.Data + done, n, n);
            }
            else if (src.Data != 0)
            {
                dst.Buffer!.Write(dst.Offset + done, new ReadOnlySpan<byte>((byte*)src.Data + done, n));
            }
            else if (dst.Data != 0)
            {
                src.Buffer!.Read(src.Offset + done, new Span<byte>((byte*)dst.Data + done, n));
            }
            else
            {
                Span<byte> tmp = _staging.AsSpan(0, n);
                src.Buffer!.Read(src.Offset + done, tmp);
                dst.Buffer!.Write(dst.Offset + done, tmp);
            }
        }
    }

    /// <summary>Frees the memory the scheduler placed (not the backends, which the caller owns).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        foreach (GraphAllocator a in _allocators)
        {
            a.Dispose();
        }
    }
}
