using Weft.Core;
using Weft.Models.Llama;

namespace Weft.Search.Vectors;

/// <summary>
/// Exact (brute-force) nearest-neighbour search over a fixed row-major set of vectors: SIMD distances, queries
/// spread over threads. Ground truth for approximate indexes, and the right choice for small collections.
/// </summary>
/// <remarks>
/// Created with a <see cref="BackendChoice"/> other than <see cref="BackendChoice.Cpu"/>, the index also uploads its
/// vectors to a Vulkan device (<see cref="ExactSearchEngine"/>) and computes batches of queries there
/// (<see cref="SearchBatch(float[], int, int, int)"/>); top-k selection stays on the CPU. Single queries keep the CPU
/// SIMD scan unless the device is a real GPU and the base is large (≥ 2^22 floats), where one device pass is
/// faster. Results are the same on both paths up to float summation order (identical for integer-valued data such as
/// SIFT), with ties broken by the lower row number.
/// </remarks>
public sealed unsafe class ExactIndex : IDisposable
{
    private const long DeviceSingleQueryFloats = 1L << 22;
    private readonly float[] _data;
    private readonly ExactSearchEngine? _engine;

    /// <summary>Wraps <paramref name="data"/> (row-major, <paramref name="count"/> × <paramref name="dimension"/>; cosine data is normalized in a copy).</summary>
    /// <exception cref="ArgumentException">Sizes disagree.</exception>
    public ExactIndex(float[] data, int count, int dimension, DistanceMetric metric = DistanceMetric.L2)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if ((long)count * dimension != data.Length)
        {
            throw new ArgumentException($"{data.Length} floats do not hold {count} vectors of dimension {dimension}", nameof(data));
        }
        if (metric == DistanceMetric.Cosine)
        {
            data = (float[])data.Clone();
            for (int i = 0; i < count; i++)
            {
                DistanceKernels.Normalize(data.AsSpan(i * dimension, dimension));
            }
        }
        _data = data;
        Count = count;
        Dimension = dimension;
        Metric = metric;
        BackendNote = "exact search: CPU SIMD scan";
    }

    /// <summary>
    /// As <see cref="ExactIndex(float[], int, int, DistanceMetric)"/>, computing query batches on the backend
    /// <paramref name="backend"/> selects: <see cref="BackendChoice.Cpu"/> keeps the CPU SIMD scan,
    /// <see cref="BackendChoice.Auto"/> uses a Vulkan GPU when one is present (never a software device such as
    /// lavapipe) and the CPU otherwise, <see cref="BackendChoice.Vulkan"/> uses any Vulkan device.
    /// </summary>
    /// <param name="data">The vectors, row-major.</param>
    /// <param name="count">Number of vectors; labels are their row numbers.</param>
    /// <param name="dimension">Vector dimension.</param>
    /// <param name="metric">Distance metric.</param>
    /// <param name="backend">Where batches of queries are computed.</param>
    /// <param name="threads">CPU threads for top-k selection; 0: all cores.</param>
    /// <exception cref="ArgumentException">Sizes disagree.</exception>
    /// <exception cref="NotSupportedException"><see cref="BackendChoice.Vulkan"/> and no Vulkan device is usable.</exception>
    public ExactIndex(float[] data, int count, int dimension, DistanceMetric metric, BackendChoice backend, int threads = 0)
        : this(data, count, dimension, metric)
    {
        if (backend == BackendChoice.Cpu)
        {
            return;
        }
        ExactSearchEngine engine = ExactSearchEngine.Create(_data, count, dimension, metric, backend, threads);
        if (!engine.OnDevice)
        {
            // Auto found no GPU: the SIMD scan is the CPU path.
            BackendNote = $"exact search: CPU SIMD scan ({engine.Note})";
            engine.Dispose();
            return;
        }
        _engine = engine;
        BackendNote = $"exact search: batches on {engine.BackendName} ({engine.Note}), top-k on the CPU";
    }

    /// <summary>Number of vectors; labels are their row numbers.</summary>
    public int Count { get; }
    /// <summary>Vector dimension.</summary>
    public int Dimension { get; }
    /// <summary>Distance metric.</summary>
    public DistanceMetric Metric { get; }

    /// <summary>One line saying where batches of queries are computed and why.</summary>
    public string BackendNote { get; }

    /// <summary>The device engine computing query batches, or null when everything runs on the CPU SIMD path. Also usable for re-scoring (<see cref="ExactSearchEngine.Rescore"/>).</summary>
    public ExactSearchEngine? Engine => _engine;

    /// <summary>Exact top-k of one query, closest first; ties broken by lower row number.</summary>
    /// <exception cref="ArgumentException">Wrong query length or k below 1.</exception>
    public SearchHit[] Search(ReadOnlySpan<float> query, int k) => Search(query, k, default(AllowAllFilter));

    /// <summary>As <see cref="Search(ReadOnlySpan{float}, int)"/>, returning only rows <paramref name="filter"/> allows.</summary>
    /// <exception cref="ArgumentException">Wrong query length or k below 1.</exception>
    public SearchHit[] Search<TFilter>(ReadOnlySpan<float> query, int k, TFilter filter) where TFilter : struct, ILabelFilter
    {
        if (query.Length != Dimension)
        {
            throw new ArgumentException($"query has {query.Length} components, the index has dimension {Dimension}", nameof(query));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        float[] q = query.ToArray();
        if (Metric == DistanceMetric.Cosine)
        {
            DistanceKernels.Normalize(q);
        }
        if (_engine is not null && UseDeviceForSingleQuery)
        {
            return _engine.SearchBatch(q, 1, k, filter)[0];
        }
        return ScanCpu(q, k, filter);
    }

    private bool UseDeviceForSingleQuery =>
        (long)Count * Dimension >= DeviceSingleQueryFloats && _engine is not null && _engine.DeviceKind is not (DeviceKind.Cpu or DeviceKind.CpuSoftware);

    // The CPU SIMD path: one query against every row.
    private SearchHit[] ScanCpu<TFilter>(float[] q, int k, TFilter filter) where TFilter : struct, ILabelFilter
    {
        k = Math.Min(k, Count);
        var best = new List<(float D, int Id)>(k + 1);
        fixed (float* qp = q)
        fixed (float* dp = _data)
        {
            float worst = float.MaxValue;
            for (int i = 0; i < Count; i++)
            {
                float* v = dp + (long)i * Dimension;
                float d = Metric == DistanceMetric.L2 ? DistanceKernels.L2Squared(qp, v, Dimension) : 1f - DistanceKernels.Dot(qp, v, Dimension);
                if ((best.Count < k || d < worst) && filter.Allows(i))
                {
                    int pos = best.Count;
                    while (pos > 0 && best[pos - 1].D > d)
                    {
                        pos--;
                    }
                    best.Insert(pos, (d, i));
                    if (best.Count > k)
                    {
                        best.RemoveAt(k);
                    }
                    worst = best.Count == k ? best[^1].D : float.MaxValue;
                }
            }
        }
        return best.Select(b => new SearchHit(b.Id, b.D)).ToArray();
    }

    /// <summary>
    /// Exact top-k of <paramref name="queryCount"/> row-major queries on <paramref name="threads"/> threads: on the
    /// device when the index has one (see the type remarks), otherwise with the CPU SIMD scan.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong query array length or k below 1.</exception>
    public SearchHit[][] SearchBatch(float[] queries, int queryCount, int k, int threads = 0) =>
        SearchBatch(queries, queryCount, k, default(AllowAllFilter), threads);

    /// <summary>As <see cref="SearchBatch(float[], int, int, int)"/>, returning only rows <paramref name="filter"/> allows.</summary>
    /// <exception cref="ArgumentException">Wrong query array length or k below 1.</exception>
    public SearchHit[][] SearchBatch<TFilter>(float[] queries, int queryCount, int k, TFilter filter, int threads = 0) where TFilter : struct, ILabelFilter
    {
        ArgumentNullException.ThrowIfNull(queries);
        if ((long)queryCount * Dimension != queries.Length)
        {
            throw new ArgumentException($"{queries.Length} floats do not hold {queryCount} queries of dimension {Dimension}", nameof(queries));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (_engine is not null && (queryCount > 1 || UseDeviceForSingleQuery))
        {
            float[] q = queries;
            if (Metric == DistanceMetric.Cosine)
            {
                q = (float[])queries.Clone();
                for (int i = 0; i < queryCount; i++)
                {
                    DistanceKernels.Normalize(q.AsSpan(i * Dimension, Dimension));
                }
            }
            return _engine.SearchBatch(q, queryCount, k, filter, threads);
        }
        var results = new SearchHit[queryCount][];
        var po = new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount };
        Parallel.For(0, queryCount, po, i => results[i] = Search(queries.AsSpan(i * Dimension, Dimension), k, filter));
        return results;
    }

    /// <summary>Releases the device memory of <see cref="Engine"/> (nothing to do for a CPU-only index).</summary>
    public void Dispose() => _engine?.Dispose();
}
