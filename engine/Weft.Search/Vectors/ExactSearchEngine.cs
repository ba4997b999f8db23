using System.Runtime.InteropServices;
using Weft.Core;
using Weft.Cpu;
using Weft.Models.Llama;

namespace Weft.Search.Vectors;

/// <summary>
/// Batched exact search through the <see cref="OpKind.PairwiseDistance"/> op on one backend (a Vulkan device, or the
/// CPU backend): the base vectors are uploaded once into the backend's memory, each batch of queries is written into a
/// work buffer, the backend computes the distance matrix, and the top-k of every query is selected on the CPU.
/// </summary>
/// <remarks>
/// <para><b>Memory.</b> The base is cut into column chunks that each fit one allocation of the device
/// (<see cref="IBufferType.ContiguousLimit"/>) and are laid out with <see cref="BufferLayout"/>; each chunk is one node
/// of the batch graph. The query batch size is bounded so that the query tensor and every chunk's distance block fit
/// one allocation and the distance blocks of a batch stay under 256 MiB.</para>
/// <para><b>Results.</b> Distances follow <see cref="DistanceMetric"/>: squared L2, or <c>1 − dot</c> for inner product
/// and cosine (cosine data and queries must be normalized by the caller, as <see cref="ExactIndex"/> does). Ties are
/// broken by the lower row number, as in <see cref="ExactIndex.Search(ReadOnlySpan{float}, int)"/>. On the CPU backend
/// the op's sums are bit-identical to <see cref="DistanceKernels"/>; on a GPU they differ by float summation order only
/// (and not at all for integer-valued data such as SIFT, whose partial sums are exact).</para>
/// <example><code>
/// using var engine = ExactSearchEngine.Create(data, n, 128, DistanceMetric.L2, BackendChoice.Auto);
/// Console.WriteLine(engine.Note);                        // "backend: Vulkan0 (NVIDIA ...)" or the CPU
/// SearchHit[][] top10 = engine.SearchBatch(queries, nq, 10, default(AllowAllFilter));
/// </code></example>
/// </remarks>
public sealed unsafe class ExactSearchEngine : IDisposable
{
    private const long OutputBudget = 256L << 20;
    private const int MaxBatchQueries = 1024;
    // The Vulkan shader's workgroup grid holds at most 65535 tiles of 64 columns in x.
    private const long MaxChunkColumns = 1L << 21;

    private readonly IBackend _backend;
    private readonly IBackend? _spare;
    private readonly IBuffer _baseBuffer;
    private readonly IBuffer _workBuffer;
    private readonly Tensor[] _chunks;
    private readonly int[] _chunkStart;
    private readonly long _queryOffset;
    private readonly long[] _outputOffsets;
    private readonly PairwiseMetric _metric;
    private readonly Dictionary<int, (Graph Graph, Tensor Query, Tensor[] Outputs)> _graphs = new();
    private readonly float[] _scratch;
    private readonly object _lock = new();
    private bool _disposed;

    private ExactSearchEngine(IBackend backend, IBackend? spare, string note, ReadOnlySpan<float> data, int count, int dimension, DistanceMetric metric, long maxChunkBytes)
    {
        _backend = backend;
        _spare = spare;
        Note = note;
        Count = count;
        Dimension = dimension;
        Metric = metric;
        _metric = metric == DistanceMetric.L2 ? PairwiseMetric.L2Squared : PairwiseMetric.InnerProduct;
        IBufferType bt = backend.Device.DefaultBufferType;
        long limit = maxChunkBytes > 0 ? Math.Min(maxChunkBytes, bt.ContiguousLimit) : bt.ContiguousLimit;
        long rowBytes = (long)dimension * sizeof(float);
        if (rowBytes > limit)
        {
            throw new NotSupportedException($"One vector of dimension {dimension} ({rowBytes} bytes) exceeds the {limit}-byte allocation limit of {backend.Name}.");
        }
        long perChunk = Math.Min(Math.Min(limit / rowBytes, MaxChunkColumns), Math.Max(1, count));
        int chunkCount = (int)Math.Max(1, (count + perChunk - 1) / perChunk);
        _chunks = new Tensor[chunkCount];
        _chunkStart = new int[chunkCount + 1];
        var sizes = new long[chunkCount];
        for (int c = 0; c < chunkCount; c++)
        {
            _chunkStart[c] = (int)(c * perChunk);
            int n = (int)Math.Min(perChunk, count - c * perChunk);
            _chunks[c] = Tensor.NewLeaf(DType.F32, dimension, Math.Max(n, 1), name: $"base[{c}]");
            _chunks[c].Flags |= TensorFlags.Weight;
            sizes[c] = _chunks[c].ByteSize;
        }
        _chunkStart[chunkCount] = count;

        // Queries per batch: the query tensor and each chunk's distance block must fit one allocation, and all
        // distance blocks of a batch the output budget.
        long maxChunk = Math.Max(1, Math.Min(perChunk, count));
        long q = MaxBatchQueries;
        q = Math.Min(q, limit / rowBytes);
        q = Math.Min(q, limit / (maxChunk * sizeof(float)));
        q = Math.Min(q, OutputBudget / ((long)Math.Max(count, 1) * sizeof(float)));
        BatchSize = (int)Math.Max(1, q);

        var workSizes = new long[chunkCount + 1];
        workSizes[0] = rowBytes * BatchSize;
        for (int c = 0; c < chunkCount; c++)
        {
            workSizes[c + 1] = _chunks[c].Ne[1] * sizeof(float) * BatchSize;
        }
        // Laid out against the device's real allocation boundaries (every size is at most limit ≤ ContiguousLimit).
        (long[] baseOffsets, long baseTotal) = BufferLayout.Place(sizes, bt.Alignment, bt.ContiguousLimit);
        (long[] workOffsets, long workTotal) = BufferLayout.Place(workSizes, bt.Alignment, bt.ContiguousLimit);
        _queryOffset = workOffsets[0];
        _outputOffsets = workOffsets[1..];
        _scratch = bt.IsHost ? [] : new float[maxChunk * BatchSize];
        try
        {
            _baseBuffer = bt.Allocate(baseTotal);
            _workBuffer = bt.Allocate(workTotal);
            for (int c = 0; c < chunkCount; c++)
            {
                Place(_chunks[c], _baseBuffer, baseOffsets[c]);
                int n = _chunkStart[c + 1] - _chunkStart[c];
                ReadOnlySpan<float> part = data.Slice(_chunkStart[c] * dimension, n * dimension);
                _baseBuffer.Write(baseOffsets[c], MemoryMarshal.AsBytes(part));
            }
        }
        catch
        {
            _baseBuffer?.Dispose();
            _workBuffer?.Dispose();
            throw;
        }
        UploadedBytes = baseTotal;
    }

    /// <summary>
    /// Creates an engine over <paramref name="data"/> (row-major, <paramref name="count"/> × <paramref name="dimension"/>;
    /// for cosine already normalized) on the backend <paramref name="choice"/> selects, as <see cref="BackendSelector"/>
    /// does: <see cref="BackendChoice.Auto"/> takes a GPU through Vulkan when one is present (never a software device
    /// such as lavapipe) and the CPU backend otherwise; <see cref="BackendChoice.Vulkan"/> takes any Vulkan device.
    /// </summary>
    /// <param name="data">The base vectors (copied to the backend's memory; the array is not kept).</param>
    /// <param name="count">Number of vectors; their labels are their row numbers.</param>
    /// <param name="dimension">Vector dimension.</param>
    /// <param name="metric">Distance metric.</param>
    /// <param name="choice">Which backend computes the distances.</param>
    /// <param name="threads">CPU threads (top-k selection, and the CPU backend); 0: all cores.</param>
    /// <param name="maxChunkBytes">Largest tensor of the base, of a query batch and of one distance block (0: the
    /// device's allocation limit, <see cref="IBufferType.ContiguousLimit"/>); smaller values split the base into more chunks.</param>
    /// <exception cref="ArgumentException">Sizes disagree.</exception>
    /// <exception cref="NotSupportedException">Vulkan was asked for and no Vulkan device is usable, or a vector exceeds the device's allocation limit.</exception>
    /// <exception cref="OutOfMemoryException">The device memory for the base is not available.</exception>
    public static ExactSearchEngine Create(ReadOnlySpan<float> data, int count, int dimension, DistanceMetric metric, BackendChoice choice, int threads = 0, long maxChunkBytes = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(maxChunkBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if ((long)count * dimension != data.Length)
        {
            throw new ArgumentException($"{data.Length} floats do not hold {count} vectors of dimension {dimension}", nameof(data));
        }
        if (!Enum.IsDefined(metric))
        {
            throw new ArgumentOutOfRangeException(nameof(metric), metric, "unknown distance metric");
        }
        IBackend[] backends = BackendSelector.Create(choice, threads, out string note);
        // backends is [gpu, cpu] or [cpu]: the engine runs on the first; the CPU behind a GPU is the scheduler's
        // fallback for re-scoring.
        IBackend? spare = backends.Length > 1 ? backends[^1] : null;
        try
        {
            return new ExactSearchEngine(backends[0], spare, note, data, count, dimension, metric, maxChunkBytes);
        }
        catch
        {
            foreach (IBackend b in backends)
            {
                b.Dispose();
            }
            throw;
        }
    }

    /// <summary>One line saying which backend computes the distances and why.</summary>
    public string Note { get; }

    /// <summary>True when the distances are computed on a device other than the CPU (for example a Vulkan GPU or lavapipe).</summary>
    public bool OnDevice => !_backend.Device.DefaultBufferType.IsHost;

    /// <summary>Kind of the device computing the distances (a software device such as lavapipe is <see cref="DeviceKind.CpuSoftware"/>).</summary>
    public DeviceKind DeviceKind => _backend.Device.Kind;

    /// <summary>Name of the backend computing the distances.</summary>
    public string BackendName => _backend.Name;

    /// <summary>Number of base vectors.</summary>
    public int Count { get; }

    /// <summary>Vector dimension.</summary>
    public int Dimension { get; }

    /// <summary>Distance metric.</summary>
    public DistanceMetric Metric { get; }

    /// <summary>Queries computed per submission (larger batches are split).</summary>
    public int BatchSize { get; }

    /// <summary>Bytes of backend memory holding the base vectors.</summary>
    public long UploadedBytes { get; }

    /// <summary>Number of base chunks (separate allocations-sized tensors, one graph node each).</summary>
    public int ChunkCount => _chunks.Length;

    /// <summary>
    /// Exact top-k of <paramref name="queryCount"/> row-major queries (normalized by the caller for cosine), closest
    /// first, restricted to the row numbers <paramref name="filter"/> allows; ties go to the lower row number.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong query array length, or k below 1.</exception>
    /// <exception cref="InvalidOperationException">The backend failed to compute a batch.</exception>
    /// <exception cref="ObjectDisposedException">The engine was disposed.</exception>
    public SearchHit[][] SearchBatch<TFilter>(ReadOnlySpan<float> queries, int queryCount, int k, TFilter filter, int threads = 0)
        where TFilter : struct, ILabelFilter
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(queryCount);
        if ((long)queryCount * Dimension != queries.Length)
        {
            throw new ArgumentException($"{queries.Length} floats do not hold {queryCount} queries of dimension {Dimension}", nameof(queries));
        }
        var results = new SearchHit[queryCount][];
        int kk = Math.Min(k, Math.Max(Count, 1));
        var po = new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount };
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            for (int q0 = 0; q0 < queryCount; q0 += BatchSize)
            {
                int q = Math.Min(BatchSize, queryCount - q0);
                var heapD = new float[q * kk];
                var heapI = new int[q * kk];
                var heapN = new int[q];
                (Graph graph, Tensor query, Tensor[] outputs) = GraphFor(q);
                _workBuffer.Write(_queryOffset, MemoryMarshal.AsBytes(queries.Slice(q0 * Dimension, q * Dimension)));
                Status st = _backend.Compute(graph);
                _backend.Synchronize();
                if (st != Status.Success)
                {
                    throw new InvalidOperationException($"Exact search on {_backend.Name} failed ({st}) for queries {q0}..{q0 + q}.");
                }
                for (int c = 0; c < _chunks.Length; c++)
                {
                    int n = _chunkStart[c + 1] - _chunkStart[c];
                    if (n == 0)
                    {
                        continue;
                    }
                    float[] block = ReadBlock(outputs[c], n, q, out nint hostBlock);
                    int start = _chunkStart[c];
                    TFilter f = filter;
                    Parallel.For(0, q, po, j =>
                    {
                        ReadOnlySpan<float> row = hostBlock != 0
                            ? new ReadOnlySpan<float>((float*)hostBlock + (long)j * n, n)
                            : block.AsSpan(j * n, n);
                        TopK.Scan(row, start, f, heapD.AsSpan(j * kk, kk), heapI.AsSpan(j * kk, kk), ref heapN[j]);
                    });
                }
                for (int j = 0; j < q; j++)
                {
                    results[q0 + j] = TopK.Drain(heapD.AsSpan(j * kk, kk), heapI.AsSpan(j * kk, kk), heapN[j]);
                }
            }
        }
        return results;
    }

    /// <summary>
    /// Distances of each query to its own candidate rows (re-scoring): <c>distances[j * perQuery + c]</c> is the
    /// distance of query j to row <c>candidates[j * perQuery + c]</c>. The candidate vectors of a batch are computed in
    /// one distance matrix against the whole query batch, which pays off when neighbouring queries share candidates
    /// or on a GPU; a negative id gives NaN (padding).
    /// </summary>
    /// <exception cref="ArgumentException">Array lengths disagree, or an id is not below <see cref="Count"/>.</exception>
    public void Rescore(ReadOnlySpan<float> queries, int queryCount, ReadOnlySpan<int> candidates, int perQuery, Span<float> distances)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(queryCount);
        ArgumentOutOfRangeException.ThrowIfNegative(perQuery);
        if ((long)queryCount * Dimension != queries.Length || (long)queryCount * perQuery != candidates.Length || distances.Length < candidates.Length)
        {
            throw new ArgumentException($"Rescore: {queryCount} queries of dimension {Dimension} with {perQuery} candidates each need {queryCount * Dimension} query floats ({queries.Length} given), {queryCount * perQuery} ids ({candidates.Length} given) and as many distances ({distances.Length} given).");
        }
        foreach (int id in candidates)
        {
            if (id >= Count)
            {
                throw new ArgumentException($"Rescore: candidate row {id} is not below the base count {Count}.", nameof(candidates));
            }
        }
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            RescoreLocked(queries, queryCount, candidates, perQuery, distances);
        }
    }

    private void RescoreLocked(ReadOnlySpan<float> queries, int queryCount, ReadOnlySpan<int> candidates, int perQuery, Span<float> distances)
    {
        // The candidate vectors are gathered from the device copy of the base (GetRows) into one matrix; the batch of
        // queries runs against it; each query reads its own candidates' column of the result.
        long limit = _backend.Device.DefaultBufferType.ContiguousLimit;
        for (int q0 = 0; q0 < queryCount;)
        {
            var unique = new Dictionary<int, int>();
            int q = 0;
            while (q0 + q < queryCount)
            {
                int before = unique.Count;
                foreach (int id in candidates.Slice((q0 + q) * perQuery, perQuery))
                {
                    if (id >= 0)
                    {
                        unique.TryAdd(id, unique.Count);
                    }
                }
                long u = Math.Max(1, unique.Count);
                if (q > 0 && ((u * (q + 1) * sizeof(float) > Math.Min(limit, OutputBudget)) || q >= MaxBatchQueries))
                {
                    // This query does not fit the batch: undo its ids and stop here.
                    foreach (int id in candidates.Slice((q0 + q) * perQuery, perQuery))
                    {
                        if (id >= 0 && unique.TryGetValue(id, out int slot) && slot >= before)
                        {
                            unique.Remove(id);
                        }
                    }
                    break;
                }
                q++;
            }
            int[] ids = new int[Math.Max(1, unique.Count)];
            foreach (var (id, slot) in unique)
            {
                ids[slot] = id;
            }
            float[] matrix = DistanceMatrix(ids, queries.Slice(q0 * Dimension, q * Dimension), q);
            int nu = ids.Length;
            for (int j = 0; j < q; j++)
            {
                for (int c = 0; c < perQuery; c++)
                {
                    int id = candidates[(q0 + j) * perQuery + c];
                    distances[(q0 + j) * perQuery + c] = id < 0 ? float.NaN : matrix[(long)j * nu + unique[id]];
                }
            }
            q0 += q;
        }
    }

    // result[j * ids.Length + u] = distance(base row ids[u], query j). Per base chunk: GetRows gathers the chunk's
    // candidates from the backend's copy of the base, PairwiseDistance compares them with the query batch (through a
    // scheduler, the CPU as fallback), and the columns are merged.
    private float[] DistanceMatrix(int[] ids, ReadOnlySpan<float> queries, int q)
    {
        var result = new float[(long)q * ids.Length];
        for (int c = 0; c < _chunks.Length; c++)
        {
            var local = new List<(int Slot, int Row)>();
            for (int u = 0; u < ids.Length; u++)
            {
                if (ids[u] >= _chunkStart[c] && ids[u] < _chunkStart[c + 1])
                {
                    local.Add((u, ids[u] - _chunkStart[c]));
                }
            }
            if (local.Count == 0)
            {
                continue;
            }
            var g = new GraphBuilder();
            Tensor idT = g.Input(DType.I32, local.Count, name: "ids");
            Tensor cand = g.GetRows(_chunks[c], idT, "candidates");
            Tensor qT = g.Input(DType.F32, Dimension, q, name: "queries");
            Tensor dist = g.PairwiseDistance(cand, qT, _metric, "rescore");
            Graph graph = g.Build(dist);
            IBackend[] list = _spare is null ? [_backend] : [_backend, _spare];
            using var sched = new Scheduler(list);
            if (sched.Allocate(graph) != Status.Success)
            {
                throw new InvalidOperationException($"Rescore: could not allocate {local.Count} candidates × {q} queries on {_backend.Name}.");
            }
            int[] rows = local.Select(l => l.Row).ToArray();
            MemoryMarshal.AsBytes(rows.AsSpan()).CopyTo(idT.HostBytes());
            MemoryMarshal.AsBytes(queries).CopyTo(qT.HostBytes());
            if (sched.Compute(graph) != Status.Success)
            {
                throw new InvalidOperationException($"Rescore: {_backend.Name} failed to compute {local.Count} candidates × {q} queries.");
            }
            float[] m = dist.ToFloatArray();
            for (int j = 0; j < q; j++)
            {
                for (int i = 0; i < local.Count; i++)
                {
                    result[(long)j * ids.Length + local[i].Slot] = m[(long)j * local.Count + i];
                }
            }
        }
        return result;
    }

    private (Graph Graph, Tensor Query, Tensor[] Outputs) GraphFor(int q)
    {
        if (_graphs.TryGetValue(q, out var cached))
        {
            return cached;
        }
        var g = new GraphBuilder();
        Tensor query = Tensor.NewLeaf(DType.F32, Dimension, q, name: "queries");
        Place(query, _workBuffer, _queryOffset);
        var outputs = new Tensor[_chunks.Length];
        for (int c = 0; c < _chunks.Length; c++)
        {
            outputs[c] = g.PairwiseDistance(_chunks[c], query, _metric, $"distances[{c}]");
            Place(outputs[c], _workBuffer, _outputOffsets[c]);
            if (!_backend.Device.Supports(outputs[c]))
            {
                throw new NotSupportedException($"{_backend.Name} does not support PairwiseDistance of {_chunks[c].Ne} by {query.Ne}.");
            }
        }
        var entry = (Graph.FromOutputs(outputs), query, outputs);
        _graphs[q] = entry;
        return entry;
    }

    private float[] ReadBlock(Tensor output, int n, int q, out nint host)
    {
        host = output.Data;
        if (host != 0)
        {
            return _scratch;
        }
        _workBuffer.Read(output.Offset, MemoryMarshal.AsBytes(_scratch.AsSpan(0, n * q)));
        return _scratch;
    }

    private static void Place(Tensor t, IBuffer buffer, long offset)
    {
        t.Buffer = buffer;
        t.Offset = offset;
        t.Data = buffer.HostPointer == 0 ? 0 : buffer.HostPointer + (nint)offset;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _graphs.Clear();
            _workBuffer.Dispose();
            _baseBuffer.Dispose();
            _backend.Dispose();
            _spare?.Dispose();
        }
    }
}
