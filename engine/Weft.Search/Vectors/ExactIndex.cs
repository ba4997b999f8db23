namespace Weft.Search.Vectors;

/// <summary>
/// Exact (brute-force) nearest-neighbour search over a fixed row-major set of vectors: SIMD distances, queries
/// spread over threads. Ground truth for approximate indexes, and the right choice for small collections.
/// </summary>
public sealed unsafe class ExactIndex
{
    private readonly float[] _data;

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
    }

    /// <summary>Number of vectors; labels are their row numbers.</summary>
    public int Count { get; }
    /// <summary>Vector dimension.</summary>
    public int Dimension { get; }
    /// <summary>Distance metric.</summary>
    public DistanceMetric Metric { get; }

    /// <summary>Exact top-k of one query, closest first; ties broken by lower row number.</summary>
    /// <exception cref="ArgumentException">Wrong query length or k below 1.</exception>
    public SearchHit[] Search(ReadOnlySpan<float> query, int k)
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
                if (best.Count < k || d < worst)
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

    /// <summary>Exact top-k of <paramref name="queryCount"/> row-major queries on <paramref name="threads"/> threads.</summary>
    public SearchHit[][] SearchBatch(float[] queries, int queryCount, int k, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(queries);
        if ((long)queryCount * Dimension != queries.Length)
        {
            throw new ArgumentException($"{queries.Length} floats do not hold {queryCount} queries of dimension {Dimension}", nameof(queries));
        }
        var results = new SearchHit[queryCount][];
        var po = new ParallelOptions { MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount };
        Parallel.For(0, queryCount, po, i => results[i] = Search(queries.AsSpan(i * Dimension, Dimension), k));
        return results;
    }
}
