using Weft.Core;

namespace Weft.Cpu;

/// <summary>
/// Computes graphs on the host CPU with a persistent <see cref="WorkerPool"/>: for each node, every thread calls the
/// node's <see cref="ICpuOp.Compute"/> with its share, then all meet at a spinning barrier. Views only get their
/// address (source address + offset). Nodes, sources and views must live in host memory.
/// </summary>
/// <example><code>
/// using var cpu = new CpuBackend { Threads = 4 };
/// var g = new GraphBuilder();
/// Tensor a = g.Input(DType.F32, 4, name: "a"), b = g.Input(DType.F32, 4, name: "b");
/// Graph graph = g.Build(g.Mul(g.Add(a, b), b));
/// using var alloc = new GraphAllocator(CpuBufferType.Instance);
/// alloc.Plan(graph);                     // inputs get memory
/// a.SetData([1, 2, 3, 4]); b.SetData([5, 6, 7, 8]);
/// cpu.Compute(graph);                    // graph.Outputs[0].ToFloatArray() == [30, 48, 70, 96]
/// // or, for tests with leaves that already have data: cpu.Evaluate(output);
/// </code></example>
public sealed class CpuBackend : BackendBase
{
    private readonly CpuDevice _device;
    private readonly GraphWork _work = new();
    private readonly List<GraphAllocator> _evaluations = new();
    private WorkerPool? _pool;
    private int _threads;
    private HostBuffer? _workBuffer;
    private Graph? _preparedGraph;
    private int _preparedThreads;
    private long _preparedWorkSize;

    /// <summary>Creates a backend on <see cref="CpuDevice.Instance"/> with <see cref="Environment.ProcessorCount"/> threads.</summary>
    public CpuBackend()
        : this(CpuDevice.Instance)
    {
    }

    /// <summary>Creates a backend with <paramref name="threads"/> threads (0: <see cref="Environment.ProcessorCount"/>).</summary>
    public CpuBackend(int threads)
        : this(CpuDevice.Instance, threads)
    {
    }

    /// <summary>Creates a backend using the op implementations of <paramref name="ops"/>.</summary>
    public CpuBackend(CpuOpTable ops, int threads = 0)
        : this(new CpuDevice(ops), threads)
    {
    }

    /// <summary>Creates a backend on <paramref name="device"/> with <paramref name="threads"/> threads (0: <see cref="Environment.ProcessorCount"/>).</summary>
    public CpuBackend(CpuDevice device, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(device);
        _device = device;
        Threads = threads == 0 ? Environment.ProcessorCount : threads;
    }

    /// <inheritdoc/>
    public override string Name => "CPU";

    /// <inheritdoc/>
    public override IDevice Device => _device;

    /// <summary>The op implementations used.</summary>
    public CpuOpTable Ops => _device.Ops;

    /// <summary>Threads evaluating each node (default <see cref="Environment.ProcessorCount"/>); the pool is rebuilt on change.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Below 1 or above 1024.</exception>
    public int Threads
    {
        get => _threads;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 1024);
            if (value != _threads)
            {
                _pool?.Dispose();
                _pool = null;
                _threads = value;
                _preparedGraph = null;
            }
        }
    }

    /// <summary>
    /// Test and tool convenience: builds the graph of <paramref name="outputs"/>, places its intermediate nodes in a new
    /// host arena (kept until this backend is disposed, so earlier results stay readable) and computes it.
    /// Every leaf must already have host data (<see cref="Tensor.Data"/>).
    /// </summary>
    /// <exception cref="ArgumentException">No outputs, or a leaf has no host data.</exception>
    /// <exception cref="InvalidOperationException">The computation failed.</exception>
    public void Evaluate(params Tensor[] outputs)
    {
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        Graph graph = Graph.FromOutputs(outputs);
        foreach (Tensor leaf in graph.Leaves)
        {
            if (leaf.Data == 0)
            {
                throw new ArgumentException($"Leaf '{leaf.Name}' ({leaf.Traits.Name} {leaf.Ne}) has no host data; place it in a HostBuffer (or use a GraphAllocator) before Evaluate.", nameof(outputs));
            }
        }
        var alloc = new GraphAllocator(CpuBufferType.Instance);
        _evaluations.Add(alloc);
        Status st = alloc.Plan(graph);
        if (st != Status.Success)
        {
            throw new InvalidOperationException($"Evaluate: placing {graph.Nodes.Count} nodes failed ({st}).");
        }
        st = Compute(graph);
        if (st != Status.Success)
        {
            throw new InvalidOperationException($"Evaluate: computing {graph.Nodes.Count} nodes failed ({st}).");
        }
    }

    /// <inheritdoc/>
    protected override Status ComputeCore(Graph graph)
    {
        IReadOnlyList<Tensor> nodes = graph.Nodes;
        if (!ReferenceEquals(graph, _preparedGraph) || _preparedThreads != _threads)
        {
            Prepare(graph);
        }
        for (int i = 0; i < nodes.Count; i++)
        {
            Tensor n = nodes[i];
            if (n.ViewSrc is not null)
            {
                n.Data = n.ViewSrc.Data == 0 ? 0 : n.ViewSrc.Data + (nint)n.ViewOffset;
            }
            if (n.Data == 0)
            {
                throw new InvalidOperationException($"CPU backend: node '{n.Name}' ({n.Op}) has no host memory; place the graph with a GraphAllocator over CpuBufferType (or a Scheduler) first.");
            }
            for (int j = 0; j < Tensor.MaxSrc; j++)
            {
                Tensor? s = n.Src[j];
                if (s is not null && s.Data == 0)
                {
                    throw new InvalidOperationException($"CPU backend: source {j} '{s.Name}' of node '{n.Name}' ({n.Op}) is not in host memory.");
                }
            }
        }
        if (_preparedWorkSize > 0 && (_workBuffer is null || _workBuffer.Size < _preparedWorkSize))
        {
            _workBuffer?.Dispose();
            _workBuffer = new HostBuffer(_preparedWorkSize);
        }
        _pool ??= new WorkerPool(_threads);
        _work.Nodes = nodes;
        _work.WorkData = _workBuffer?.HostPointer ?? 0;
        _work.WorkSize = _workBuffer?.Size ?? 0;
        _work.Barrier = _pool.Barrier;
        _work.Failure = null;
        try
        {
            _pool.Run(_work);
        }
        finally
        {
            _work.Nodes = null!;
        }
        if (_work.Failure is Exception e)
        {
            Tensor n = _work.FailedNode!;
            throw new InvalidOperationException($"CPU op {n.Op} failed on node '{n.Name}' ({n.Traits.Name} {n.Ne}): {e.Message}", e);
        }
        return Status.Success;
    }

    // Resolves each node's implementation and the largest scratch size once per graph (and thread count).
    private void Prepare(Graph graph)
    {
        IReadOnlyList<Tensor> nodes = graph.Nodes;
        if (_work.Ops.Length < nodes.Count)
        {
            _work.Ops = new ICpuOp?[nodes.Count];
        }
        long work = 0;
        for (int i = 0; i < nodes.Count; i++)
        {
            Tensor n = nodes[i];
            if (n.IsView)
            {
                _work.Ops[i] = null;
                continue;
            }
            ICpuOp op = Ops.Find(n) ?? throw new NotSupportedException(
                $"CPU backend: no CPU kernel supports node '{n.Name}' ({n.Op}, {n.Traits.Name} {n.Ne}, src0 {n.Src[0]?.Traits.Name ?? "-"}, src1 {n.Src[1]?.Traits.Name ?? "-"}).");
            _work.Ops[i] = op;
            work = Math.Max(work, op.WorkSize(n, _threads));
        }
        _preparedGraph = graph;
        _preparedThreads = _threads;
        _preparedWorkSize = work;
    }

    /// <inheritdoc/>
    protected override void SynchronizeCore()
    {
        // Compute is synchronous.
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        _pool?.Dispose();
        _pool = null;
        _workBuffer?.Dispose();
        _workBuffer = null;
        foreach (GraphAllocator a in _evaluations)
        {
            a.Dispose();
        }
        _evaluations.Clear();
    }

    // The per-graph loop every pool thread runs. A class (not a closure) so that a run allocates nothing.
    private sealed class GraphWork : IParallelWork
    {
        public IReadOnlyList<Tensor> Nodes = null!;
        public ICpuOp?[] Ops = [];
        public nint WorkData;
        public long WorkSize;
        public IBarrier Barrier = null!;
        public Exception? Failure;
        public Tensor? FailedNode;
        private int _failed;

        public void Execute(int ith, int nth)
        {
            if (ith == 0)
            {
                _failed = 0;
            }
            IReadOnlyList<Tensor> nodes = Nodes;
            bool profile = ith == 0 && CpuProfile.Enabled;
            for (int i = 0; i < nodes.Count; i++)
            {
                ICpuOp? op = Ops[i];
                if (op is null)
                {
                    continue;
                }
                long t0 = profile ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
                if (Volatile.Read(ref _failed) == 0)
                {
                    try
                    {
                        var p = new ComputeParams(ith, nth, WorkData, WorkSize, Barrier);
                        op.Compute(in p, nodes[i]);
                    }
                    catch (Exception e)
                    {
                        if (Interlocked.Exchange(ref _failed, 1) == 0)
                        {
                            Failure = e;
                            FailedNode = nodes[i];
                        }
                    }
                }
                // Every thread reaches every barrier, even after a failure, so no thread is left waiting.
                Barrier.SignalAndWait();
                if (profile)
                {
                    CpuProfile.Add(nodes[i], System.Diagnostics.Stopwatch.GetTimestamp() - t0);
                }
            }
        }
    }
}
