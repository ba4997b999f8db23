namespace Weft.Core;

/// <summary>
/// Memory planner (ggml-alloc style): places every unplaced tensor of a <see cref="Graph"/> in one arena buffer of a
/// <see cref="IBufferType"/>, reusing memory by lifetime.
/// </summary>
/// <remarks>
/// <para>Rules: a node's memory is allocated when it is computed and freed after its last consumer; views (and the
/// result of <see cref="OpKind.Cpy"/>) alias their source and own no memory; leaves placed here (inputs) and
/// tensors flagged <see cref="TensorFlags.Input"/>, <see cref="TensorFlags.Output"/> or <see cref="TensorFlags.Weight"/>,
/// or listed in <see cref="Graph.Outputs"/>, are never reused. Tensors that already live in another buffer are left
/// where they are. Free blocks are reused best-fit.</para>
/// <para>Re-planning reuses the arena when it is large enough, and planning is deterministic, so the same graph gets
/// the same offsets. After a first plan, re-planning allocates nothing on the managed heap.</para>
/// <example><code>
/// using var alloc = new GraphAllocator(device.DefaultBufferType);
/// if (alloc.Plan(graph) != Status.Success) { /* out of memory */ }
/// input.SetData(values);              // inputs now have memory
/// backend.Compute(graph);
/// </code></example>
/// </remarks>
public sealed class GraphAllocator : IDisposable
{
    private readonly Dictionary<Tensor, int> _uses = new();
    private readonly Dictionary<Tensor, long> _offsets = new();
    private readonly HashSet<Tensor> _keep = new();
    private readonly List<FreeBlock> _free = new();
    private long _top;
    private long _peak;
    private bool _disposed;

    private struct FreeBlock
    {
        public long Offset;
        public long Size;
    }

    /// <summary>Creates a planner that places tensors in buffers of <paramref name="bufferType"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="bufferType"/> is null.</exception>
    /// <exception cref="ArgumentException">The buffer type's alignment is not a power of two.</exception>
    public GraphAllocator(IBufferType bufferType)
    {
        ArgumentNullException.ThrowIfNull(bufferType);
        if (bufferType.Alignment <= 0 || (bufferType.Alignment & (bufferType.Alignment - 1)) != 0)
        {
            throw new ArgumentException($"Buffer type '{bufferType.Name}' has alignment {bufferType.Alignment}, which is not a power of two.", nameof(bufferType));
        }
        BufferType = bufferType;
    }

    /// <summary>The buffer type of the arena.</summary>
    public IBufferType BufferType { get; }

    /// <summary>The arena, once a plan succeeded.</summary>
    public IBuffer? Buffer { get; private set; }

    /// <summary>Bytes the last plan needed (the peak of live tensors, aligned).</summary>
    public long PeakBytes => _peak;

    /// <summary>Number of times the arena was (re)allocated.</summary>
    public int ArenaAllocations { get; private set; }

    /// <summary>
    /// Places every tensor of <paramref name="graph"/> that has no buffer yet (or was placed by this planner before):
    /// sets <see cref="Tensor.Buffer"/>, <see cref="Tensor.Offset"/> and, on host buffers, <see cref="Tensor.Data"/>.
    /// </summary>
    /// <returns><see cref="Status.Success"/>, or <see cref="Status.AllocFailed"/> when the arena cannot be allocated.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="graph"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The planner was disposed.</exception>
    /// <exception cref="InvalidOperationException">A view's source has no memory.</exception>
    public Status Plan(Graph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ObjectDisposedException.ThrowIf(_disposed, this);
        IReadOnlyList<Tensor> nodes = graph.Nodes, leaves = graph.Leaves, outputs = graph.Outputs;
        _uses.Clear();
        _offsets.Clear();
        _keep.Clear();
        _free.Clear();
        _top = 0;
        _peak = 0;

        for (int i = 0; i < outputs.Count; i++)
        {
            _keep.Add(outputs[i].ViewRoot);
        }
        for (int i = 0; i < nodes.Count; i++)
        {
            Tensor n = nodes[i];
            if ((n.Flags & TensorFlags.Output) != 0)
            {
                _keep.Add(n.ViewRoot);
            }
            for (int j = 0; j < Tensor.MaxSrc; j++)
            {
                Tensor? s = n.Src[j];
                if (s is not null && !IsAliasEdge(n, s))
                {
                    Tensor r = s.ViewRoot;
                    _uses[r] = _uses.GetValueOrDefault(r) + 1;
                }
            }
        }

        // Pass 1: offsets. Leaves first (never freed), then nodes in order, freeing sources after their last use.
        for (int i = 0; i < leaves.Count; i++)
        {
            Tensor t = leaves[i];
            if (t.ViewSrc is null && NeedsPlacement(t) && !_offsets.ContainsKey(t))
            {
                _offsets[t] = Allocate(SizeOf(t));
            }
        }
        for (int i = 0; i < nodes.Count; i++)
        {
            Tensor n = nodes[i];
            if (n.ViewSrc is null && NeedsPlacement(n))
            {
                _offsets[n] = Allocate(SizeOf(n));
            }
            for (int j = 0; j < Tensor.MaxSrc; j++)
            {
                Tensor? s = n.Src[j];
                if (s is null || IsAliasEdge(n, s))
                {
                    continue;
                }
                Tensor r = s.ViewRoot;
                int left = _uses[r] - 1;
                _uses[r] = left;
                if (left == 0 && IsFreeable(r))
                {
                    Release(_offsets[r], SizeOf(r));
                }
            }
        }

        long required = Math.Max(_peak, BufferType.Alignment);
        if (Buffer is null || Buffer.Size < required)
        {
            if (required > BufferType.MaxSize)
            {
                return Status.AllocFailed;
            }
            Buffer?.Dispose();
            Buffer = null;
            try
            {
                Buffer = BufferType.Allocate(required);
            }
            catch (OutOfMemoryException)
            {
                return Status.AllocFailed;
            }
            ArenaAllocations++;
        }

        // Pass 2: publish the placements, then the aliases (in order: a view's source is placed before the view).
        IBuffer arena = Buffer;
        nint host = arena.HostPointer;
        for (int i = 0; i < leaves.Count; i++)
        {
            Place(leaves[i], arena, host);
        }
        for (int i = 0; i < nodes.Count; i++)
        {
            Place(nodes[i], arena, host);
        }
        return Status.Success;
    }

    private void Place(Tensor t, IBuffer arena, nint host)
    {
        if (t.ViewSrc is not null)
        {
            Tensor v = t.ViewSrc;
            if (v.Buffer is null && v.Data == 0)
            {
                throw new InvalidOperationException($"View '{t.Name}' ({t.Op}) aliases '{v.Name}', which has no memory; place the source or add it to the graph.");
            }
            t.Buffer = v.Buffer;
            t.Offset = v.Offset + t.ViewOffset;
            t.Data = v.Data == 0 ? 0 : v.Data + (nint)t.ViewOffset;
            t.PlacedBy = v.PlacedBy;
            return;
        }
        if (_offsets.TryGetValue(t, out long off))
        {
            t.Buffer = arena;
            t.Offset = off;
            t.Data = host == 0 ? 0 : host + (nint)off;
            t.PlacedBy = this;
        }
    }

    private static bool IsAliasEdge(Tensor node, Tensor src) => node.ViewSrc is not null && ReferenceEquals(node.ViewSrc, src);

    private bool NeedsPlacement(Tensor t) => (t.Buffer is null && t.Data == 0) || ReferenceEquals(t.PlacedBy, this);

    private bool IsFreeable(Tensor r) =>
        r.Op != OpKind.None
        && (r.Flags & (TensorFlags.Input | TensorFlags.Output | TensorFlags.Weight)) == 0
        && !_keep.Contains(r)
        && _offsets.ContainsKey(r);

    private long SizeOf(Tensor t)
    {
        long a = BufferType.Alignment;
        long size = Math.Max(BufferType.AllocSize(t), 1);
        return checked((size + a - 1) & ~(a - 1));
    }

    private long Allocate(long size)
    {
        int best = -1;
        for (int i = 0; i < _free.Count; i++)
        {
            if (_free[i].Size >= size && (best < 0 || _free[i].Size < _free[best].Size))
            {
                best = i;
            }
        }
        if (best >= 0)
        {
            FreeBlock b = _free[best];
            long off = b.Offset;
            if (b.Size == size)
            {
                _free.RemoveAt(best);
            }
            else
            {
                b.Offset += size;
                b.Size -= size;
                _free[best] = b;
            }
            return off;
        }
        // No block fits: grow at the top, absorbing a free block that ends there.
        if (_free.Count > 0 && _free[^1].Offset + _free[^1].Size == _top)
        {
            long off = _free[^1].Offset;
            _free.RemoveAt(_free.Count - 1);
            _top = off + size;
            _peak = Math.Max(_peak, _top);
            return off;
        }
        long at = _top;
        _top = checked(_top + size);
        _peak = Math.Max(_peak, _top);
        return at;
    }

    // Free blocks are kept sorted by offset and merged with their neighbours.
    private void Release(long offset, long size)
    {
        int i = 0;
        while (i < _free.Count && _free[i].Offset < offset)
        {
            i++;
        }
        _free.Insert(i, new FreeBlock { Offset = offset, Size = size });
        if (i + 1 < _free.Count && _free[i].Offset + _free[i].Size == _free[i + 1].Offset)
        {
            FreeBlock m = _free[i];
            m.Size += _free[i + 1].Size;
            _free[i] = m;
            _free.RemoveAt(i + 1);
        }
        if (i > 0 && _free[i - 1].Offset + _free[i - 1].Size == _free[i].Offset)
        {
            FreeBlock m = _free[i - 1];
            m.Size += _free[i].Size;
            _free[i - 1] = m;
            _free.RemoveAt(i);
        }
    }

    /// <summary>Frees the arena. Tensors placed in it lose their memory.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        Buffer?.Dispose();
        Buffer = null;
    }
}
