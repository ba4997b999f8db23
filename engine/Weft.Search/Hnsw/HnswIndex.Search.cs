using System.Buffers;
using Weft.Search.Vectors;

namespace Weft.Search.Hnsw;

public sealed unsafe partial class HnswIndex
{
    /// <summary>The <paramref name="k"/> approximate nearest live vectors of <paramref name="query"/>, closest first.</summary>
    /// <param name="query">Query vector of <see cref="Dimension"/> floats (normalized internally for cosine).</param>
    /// <param name="k">Number of results (fewer when the index holds fewer live vectors).</param>
    /// <param name="ef">Candidate list size for this query; default <see cref="Ef"/>; raised to k when smaller.</param>
    /// <exception cref="ArgumentException">Wrong dimension or k/ef below 1.</exception>
    public SearchHit[] Search(ReadOnlySpan<float> query, int k, int? ef = null) =>
        SearchDispatch(query, k, ef, default(AllowAllFilter), filtered: false);

    /// <summary>As <see cref="Search(ReadOnlySpan{float}, int, int?)"/>, returning only labels <paramref name="filter"/> allows.</summary>
    /// <remarks>
    /// When a sample of the live vectors shows the filter allows less than <see cref="ExactFilterThreshold"/> of them,
    /// the search is exact over the allowed vectors, because graph search would lose recall.
    /// </remarks>
    public SearchHit[] Search<TFilter>(ReadOnlySpan<float> query, int k, int? ef, TFilter filter) where TFilter : struct, ILabelFilter =>
        SearchDispatch(query, k, ef, filter, filtered: true);

    /// <summary>As <see cref="Search{TFilter}"/> with a delegate filter (null = no filter).</summary>
    public SearchHit[] Search(ReadOnlySpan<float> query, int k, int? ef, Func<long, bool>? filter) =>
        filter is null ? Search(query, k, ef) : Search(query, k, ef, new PredicateFilter(filter));

    /// <summary>Exact (brute-force) top-k over the live vectors, optionally filtered; ground truth for this index.</summary>
    public SearchHit[] SearchExact(ReadOnlySpan<float> query, int k, Func<long, bool>? filter = null)
    {
        float[] q = PrepareQuery(query, k);
        _rw.EnterReadLock();
        try
        {
            ThrowIfDisposed();
            fixed (float* qp = q)
            {
                return filter is null
                    ? ExactScan(qp, k, default(AllowAllFilter))
                    : ExactScan(qp, k, new PredicateFilter(filter));
            }
        }
        finally
        {
            _rw.ExitReadLock();
            ArrayPool<float>.Shared.Return(q);
        }
    }

    private float[] PrepareQuery(ReadOnlySpan<float> query, int k)
    {
        if (query.Length != _dim)
        {
            throw new ArgumentException($"query has {query.Length} components, the index has dimension {_dim}", nameof(query));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        float[] q = ArrayPool<float>.Shared.Rent(_dim);
        query.CopyTo(q);
        if (_metric == DistanceMetric.Cosine)
        {
            DistanceKernels.Normalize(q.AsSpan(0, _dim));
        }
        return q;
    }

    private SearchHit[] SearchDispatch<TFilter>(ReadOnlySpan<float> query, int k, int? ef, TFilter filter, bool filtered)
        where TFilter : struct, ILabelFilter
    {
        ThrowIfDisposed();
        if (ef is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ef), ef, "ef must be at least 1");
        }
        float[] q = PrepareQuery(query, k);
        _rw.EnterReadLock();
        try
        {
            ThrowIfDisposed();
            fixed (float* qp = q)
            {
                if (filtered && EstimateSelectivity(filter) <= ExactFilterThreshold)
                {
                    return ExactScan(qp, k, filter);
                }
                int efv = Math.Max(ef ?? _ef, k);
                return SpaceId switch
                {
                    0 => SearchGraph<L2F32Space, TFilter>(qp, k, efv, filter, filtered),
                    1 => SearchGraph<IpF32Space, TFilter>(qp, k, efv, filter, filtered),
                    2 => SearchGraph<L2F16Space, TFilter>(qp, k, efv, filter, filtered),
                    3 => SearchGraph<IpF16Space, TFilter>(qp, k, efv, filter, filtered),
                    4 => SearchGraph<L2Int8Space, TFilter>(qp, k, efv, filter, filtered),
                    5 => SearchGraph<IpInt8Space, TFilter>(qp, k, efv, filter, filtered),
                    _ => throw new System.Diagnostics.UnreachableException($"space {SpaceId}"),
                };
            }
        }
        finally
        {
            _rw.ExitReadLock();
            ArrayPool<float>.Shared.Return(q);
        }
    }

    /// <summary>Fraction of a deterministic sample of up to 512 live slots that <paramref name="filter"/> allows.</summary>
    private double EstimateSelectivity<TFilter>(TFilter filter) where TFilter : struct, ILabelFilter
    {
        int n = Volatile.Read(ref _count);
        if (n == 0)
        {
            return 0;
        }
        int step = Math.Max(1, n / 512);
        int seen = 0, allowed = 0;
        for (int i = 0; i < n; i += step)
        {
            if (Volatile.Read(ref _deleted[i]) != SlotLive)
            {
                continue;
            }
            seen++;
            if (filter.Allows(_labels[i]))
            {
                allowed++;
            }
        }
        return seen == 0 ? 0 : (double)allowed / seen;
    }

    private SearchHit[] SearchGraph<TSpace, TFilter>(float* q, int k, int ef, TFilter filter, bool filtered)
        where TSpace : struct, ISpace
        where TFilter : struct, ILabelFilter
    {
        (int ep, int maxLevel) = ReadEntry();
        if (ep < 0)
        {
            return [];
        }
        SearchScratch s = SearchScratch.Get(_capacity, _dim);
        int cur = ep;
        float curD = TSpace.Distance(q, Code(cur), _dim);
        for (int l = maxLevel; l > 0; l--)
        {
            GreedyStep<TSpace>(q, ref cur, ref curD, l);
        }
        bool strict = filtered || Volatile.Read(ref _deletedCount) > 0;
        SearchLayer<TSpace, TFilter>(q, cur, ef, 0, filter, strict, s, forBuild: false);
        s.Top.DrainSorted(s.Sorted);
        List<(float D, int Id)> res = s.Sorted;
        if (_storage != VectorStorage.F32)
        {
            // Re-score the ef candidates on the float copy, then re-rank.
            for (int i = 0; i < res.Count; i++)
            {
                res[i] = (ExactDistance(q, res[i].Id), res[i].Id);
            }
            res.Sort(s_byDistance);
        }
        int m = Math.Min(k, res.Count);
        var hits = new SearchHit[m];
        for (int i = 0; i < m; i++)
        {
            hits[i] = new SearchHit(_labels[res[i].Id], res[i].D);
        }
        return hits;
    }

    private SearchHit[] ExactScan<TFilter>(float* q, int k, TFilter filter) where TFilter : struct, ILabelFilter
    {
        SearchScratch s = SearchScratch.Get(_capacity, _dim);
        DistHeap top = s.Top;
        top.Clear();
        int n = Volatile.Read(ref _count);
        for (int i = 0; i < n; i++)
        {
            if (!Accept(i, filter))
            {
                continue;
            }
            float d = ExactDistance(q, i);
            if (top.Count < k)
            {
                top.Push(d, i);
            }
            else if (d < top.TopDistance)
            {
                top.Pop();
                top.Push(d, i);
            }
        }
        top.DrainSorted(s.Sorted);
        var hits = new SearchHit[s.Sorted.Count];
        for (int i = 0; i < hits.Length; i++)
        {
            hits[i] = new SearchHit(_labels[s.Sorted[i].Id], s.Sorted[i].D);
        }
        return hits;
    }
}
