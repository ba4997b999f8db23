using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Weft.Search.Vectors;

namespace Weft.Search.Hnsw;

public sealed unsafe partial class HnswIndex
{
    private const byte SlotLive = 0, SlotDeleted = 1, SlotWriting = 2;

    private static readonly Comparison<(float D, int Id)> s_byDistance = (a, b) => a.D.CompareTo(b.D);

    // ------------------------------------------------------------------ links

    /// <summary>Link list of <paramref name="slot"/> at <paramref name="level"/>: <c>[count, id0, id1, ...]</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int* Links(int slot, int level) =>
        level == 0 ? (int*)(_level0 + (long)slot * _blockSize) : (int*)_upper[slot] + (level - 1) * (_m + 1);

    private static long PackEntry(int slot, int level) => ((long)level << 32) | (uint)slot;

    private (int Slot, int Level) ReadEntry()
    {
        long e = Volatile.Read(ref _entry);
        return e < 0 ? (-1, -1) : ((int)(e & 0xffffffff), (int)(e >> 32));
    }

    private int RandomLevel()
    {
        lock (_rng)
        {
            return _rng.NextLevel(_levelMult, 64);
        }
    }

    private int SpaceId => (_metric == DistanceMetric.L2 ? 0 : 1) + 2 * (int)_storage;

    // ------------------------------------------------------------------ add

    /// <summary>
    /// Adds <paramref name="vector"/> under <paramref name="label"/>. Re-adding an existing label replaces its vector
    /// (update); a deleted slot is reused when one is free. Thread-safe: adds may run in parallel with each other and
    /// with searches.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong dimension, or a NaN/infinite component.</exception>
    public void Add(long label, ReadOnlySpan<float> vector)
    {
        ThrowIfDisposed();
        if (vector.Length != _dim)
        {
            throw new ArgumentException($"vector has {vector.Length} components, the index has dimension {_dim}", nameof(vector));
        }
        float[] buf = ArrayPool<float>.Shared.Rent(_dim);
        try
        {
            Span<float> v = buf.AsSpan(0, _dim);
            vector.CopyTo(v);
            for (int i = 0; i < v.Length; i++)
            {
                if (!float.IsFinite(v[i]))
                {
                    throw new ArgumentException($"vector component {i} of label {label} is {v[i]}; vectors must be finite", nameof(vector));
                }
            }
            if (_metric == DistanceMetric.Cosine)
            {
                DistanceKernels.Normalize(v);
            }
            AddPrepared(label, v);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(buf);
        }
    }

    /// <summary>
    /// Adds <c>labels.Length</c> vectors stored row by row in <paramref name="vectors"/>, on
    /// <paramref name="threads"/> threads (1 = in order, which makes the graph reproducible for a given seed).
    /// </summary>
    /// <exception cref="ArgumentException">Sizes disagree or a vector is not finite.</exception>
    public void AddRange(float[] vectors, long[] labels, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentNullException.ThrowIfNull(labels);
        if ((long)labels.Length * _dim != vectors.Length)
        {
            throw new ArgumentException($"{vectors.Length} floats do not hold {labels.Length} vectors of dimension {_dim}", nameof(vectors));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        int free;
        lock (_labelLock)
        {
            free = _freeSlots.Count;
        }
        EnsureCapacity(_count + Math.Max(0, labels.Length - free));
        if (threads == 1 || labels.Length < 2 * threads)
        {
            for (int i = 0; i < labels.Length; i++)
            {
                Add(labels[i], vectors.AsSpan(i * _dim, _dim));
            }
            return;
        }
        int next = -1;
        var workers = new Thread[threads];
        Exception? failure = null;
        for (int t = 0; t < threads; t++)
        {
            workers[t] = new Thread(() =>
            {
                try
                {
                    int i;
                    while ((i = Interlocked.Increment(ref next)) < labels.Length && Volatile.Read(ref failure) is null)
                    {
                        Add(labels[i], vectors.AsSpan(i * _dim, _dim));
                    }
                }
                catch (Exception ex)
                {
                    Interlocked.CompareExchange(ref failure, ex, null);
                }
            }, 4 << 20) { IsBackground = true, Name = "hnsw-build" };
            workers[t].Start();
        }
        foreach (Thread w in workers)
        {
            w.Join();
        }
        if (failure is not null)
        {
            throw new AggregateException("adding vectors failed: " + failure.Message, failure);
        }
    }

    private void AddPrepared(long label, Span<float> v)
    {
        int slot = -1;
        bool reuse = false;
        int level = -1;
        while (slot < 0)
        {
            lock (_labelLock)
            {
                if (_labelToSlot.TryGetValue(label, out int existing))
                {
                    slot = existing;
                    reuse = true;
                }
                else if (_freeSlots.Count > 0)
                {
                    slot = _freeSlots.Pop();
                    reuse = true;
                    _labelToSlot[label] = slot;
                    Interlocked.Decrement(ref _deletedCount);
                }
                else if (_count < _capacity)
                {
                    slot = _count;
                    _labelToSlot[label] = slot;
                    _deleted[slot] = SlotWriting;
                    Volatile.Write(ref _count, _count + 1);
                }
            }
            if (slot < 0)
            {
                EnsureCapacity(_count + 1);
            }
        }

        if (reuse)
        {
            // Overwriting a vector that searches may be reading: take the exclusive lock for the write only.
            _rw.EnterWriteLock();
            try
            {
                EncodeSlot(slot, v);
                _labels[slot] = label;
                level = _levels[slot]; // a reused slot keeps its level, so links into it stay valid at every level
                Volatile.Write(ref _deleted[slot], SlotLive);
            }
            finally
            {
                _rw.ExitWriteLock();
            }
        }

        _rw.EnterReadLock();
        try
        {
            if (!reuse)
            {
                level = RandomLevel();
                _levels[slot] = level;
                _labels[slot] = label;
                *(int*)Block(slot) = 0;
                if (level > 0)
                {
                    int n = level * (_m + 1);
                    int* up = (int*)NativeMemory.AllocZeroed((nuint)n, sizeof(int));
                    _upper[slot] = (nint)up;
                }
                EncodeSlot(slot, v);
            }
            fixed (float* q = v)
            {
                switch (SpaceId)
                {
                    case 0: Insert<L2F32Space>(slot, level, q, reuse); break;
                    case 1: Insert<IpF32Space>(slot, level, q, reuse); break;
                    case 2: Insert<L2F16Space>(slot, level, q, reuse); break;
                    case 3: Insert<IpF16Space>(slot, level, q, reuse); break;
                    case 4: Insert<L2Int8Space>(slot, level, q, reuse); break;
                    case 5: Insert<IpInt8Space>(slot, level, q, reuse); break;
                    default: throw new System.Diagnostics.UnreachableException($"space {SpaceId}");
                }
            }
            Volatile.Write(ref _deleted[slot], SlotLive);
        }
        finally
        {
            _rw.ExitReadLock();
        }
    }

    /// <summary>
    /// Links a new node, or, for a slot whose vector was just replaced (update or reuse of a deleted slot), first
    /// repairs the neighbourhood it left and then re-links it at its new position [hnswlib <c>updatePoint</c>].
    /// </summary>
    private void Insert<TSpace>(int slot, int level, float* q, bool replaced) where TSpace : struct, ISpace
    {
        if (replaced)
        {
            RepairNeighbourhood<TSpace>(slot, level);
        }
        Link<TSpace>(slot, level, q);
    }

    /// <summary>
    /// After the vector of <paramref name="slot"/> changed, nodes that linked to it keep a link to a point that may no
    /// longer be near them. On every level of the node, each such node (found among the node's neighbours and their
    /// neighbours) runs the heuristic over the candidates around it (the moved node, its neighbours, their neighbours
    /// and its own links; the closest <c>efConstruction</c>) and the link to the moved node is kept only if the
    /// heuristic still picks it, else replaced by the best new pick (<see cref="MergeRepairedList"/>).
    /// </summary>
    private void RepairNeighbourhood<TSpace>(int slot, int level) where TSpace : struct, ISpace
    {
        SearchScratch s = SearchScratch.Get(_capacity, _dim);
        List<int> holders = s.OneHop, pool = s.Pool;
        List<(float D, int Id)> cand = s.Sorted2, kept = s.Kept;
        ushort[] visited = s.Visited;
        for (int l = 0; l <= level; l++)
        {
            CopyLinks(slot, l, holders);
            if (holders.Count == 0)
            {
                continue;
            }
            ushort tag = s.NextTag();
            pool.Clear();
            pool.Add(slot);
            visited[slot] = tag;
            foreach (int n in holders)
            {
                if (visited[n] != tag)
                {
                    visited[n] = tag;
                    pool.Add(n);
                }
            }
            foreach (int n in holders)
            {
                AddLinksToPool(n, l, pool, visited, tag);
            }
            // Only nodes that link to the moved one need repair; they are looked for among its neighbours and their
            // neighbours (hnswlib re-selects the moved node's out-neighbours, which misses one-way in-links).
            holders.Clear();
            for (int p = 1; p < pool.Count; p++)
            {
                if (ListContains(pool[p], l, slot))
                {
                    holders.Add(pool[p]);
                }
            }
            int maxC = l == 0 ? _m0 : _m;
            foreach (int n in holders)
            {
                if (n == slot)
                {
                    continue;
                }
                cand.Clear();
                fixed (float* tmp2 = s.Decode2)
                {
                    float* nv = VectorOf(n, tmp2);
                    foreach (int c in pool)
                    {
                        if (c != n)
                        {
                            cand.Add((TSpace.Distance(nv, Code(c), _dim), c));
                        }
                    }
                    // The node's own neighbours are candidates too, where the pool lacks them.
                    int* own = Links(n, l);
                    int cnt = Math.Min(Volatile.Read(ref own[0]), maxC);
                    for (int j = 1; j <= cnt; j++)
                    {
                        int c = own[j];
                        if (visited[c] != tag)
                        {
                            cand.Add((TSpace.Distance(nv, Code(c), _dim), c));
                        }
                    }
                }
                cand.Sort(s_byDistance);
                if (cand.Count > _efConstruction)
                {
                    cand.RemoveRange(_efConstruction, cand.Count - _efConstruction);
                }
                SelectNeighbors<TSpace>(cand, maxC, kept, s);
                MergeRepairedList(n, l, slot, kept);
            }
        }
    }

    /// <summary>
    /// Replaces the links of <paramref name="node"/> that the heuristic no longer wants to <paramref name="moved"/>
    /// with new picks from <paramref name="selected"/>, keeping every other link and the list's size. A full
    /// re-selection (what hnswlib does) thins lists filled by back-links and drops links other nodes are reached
    /// by; on siftsmall with a fifth of the vectors moved it lost 0.015 recall@10 at ef 10 against a fresh build,
    /// this keeps the loss under 0.005.
    /// </summary>
    private void MergeRepairedList(int node, int level, int moved, List<(float D, int Id)> selected)
    {
        int maxC = level == 0 ? _m0 : _m;
        bool keepMoved = false;
        foreach ((float _, int id) in selected)
        {
            keepMoved |= id == moved;
        }
        int* ln = Links(node, level);
        int* merged = stackalloc int[maxC];
        lock (LinkLock(node))
        {
            int cnt = Math.Min(ln[0], maxC);
            int m = 0;
            for (int j = 1; j <= cnt; j++)
            {
                if (ln[j] != moved || keepMoved)
                {
                    merged[m++] = ln[j];
                }
            }
            foreach ((float _, int id) in selected)
            {
                if (m >= cnt)
                {
                    break;
                }
                bool present = id == node;
                for (int j = 0; j < m && !present; j++)
                {
                    present = merged[j] == id;
                }
                if (!present)
                {
                    merged[m++] = id;
                }
            }
            // Links first, count last (see ConnectBack).
            for (int j = 0; j < m; j++)
            {
                ln[1 + j] = merged[j];
            }
            Volatile.Write(ref ln[0], m);
        }
    }

    private void AddLinksToPool(int node, int level, List<int> pool, ushort[] visited, ushort tag)
    {
        int* ln = Links(node, level);
        lock (LinkLock(node))
        {
            int cnt = ln[0];
            for (int j = 1; j <= cnt; j++)
            {
                int t = ln[j];
                if (visited[t] != tag)
                {
                    visited[t] = tag;
                    pool.Add(t);
                }
            }
        }
    }

    private bool ListContains(int node, int level, int target)
    {
        int* ln = Links(node, level);
        lock (LinkLock(node))
        {
            int cnt = ln[0];
            for (int j = 1; j <= cnt; j++)
            {
                if (ln[j] == target)
                {
                    return true;
                }
            }
        }
        return false;
    }

    private void CopyLinks(int slot, int level, List<int> dst)
    {
        dst.Clear();
        int* ln = Links(slot, level);
        lock (LinkLock(slot))
        {
            int cnt = ln[0];
            for (int j = 1; j <= cnt; j++)
            {
                dst.Add(ln[j]);
            }
        }
    }

    private void Link<TSpace>(int slot, int level, float* q) where TSpace : struct, ISpace
    {
        (int ep, int maxLevel) = ReadEntry();
        if (ep < 0)
        {
            lock (_entryLock)
            {
                (ep, maxLevel) = ReadEntry();
                if (ep < 0)
                {
                    Volatile.Write(ref _entry, PackEntry(slot, level));
                    return;
                }
            }
        }
        if (ep == slot && maxLevel == level && Count <= 1)
        {
            return;
        }

        SearchScratch s = SearchScratch.Get(_capacity, _dim);
        int cur = ep;
        float curD = TSpace.Distance(q, Code(cur), _dim);
        for (int l = maxLevel; l > level; l--)
        {
            GreedyStep<TSpace>(q, ref cur, ref curD, l);
        }
        List<(float D, int Id)> selected = s.Selected;
        for (int l = Math.Min(level, maxLevel); l >= 0; l--)
        {
            SearchLayer<TSpace, AllowAllFilter>(q, cur, _efConstruction, l, default, strict: false, s, forBuild: true);
            s.Top.DrainSorted(s.Sorted);
            // Never link a node to itself (happens on update, when the node is already in the graph).
            for (int j = s.Sorted.Count - 1; j >= 0; j--)
            {
                if (s.Sorted[j].Id == slot)
                {
                    s.Sorted.RemoveAt(j);
                }
            }
            if (s.Sorted.Count == 0)
            {
                continue;
            }
            SelectNeighbors<TSpace>(s.Sorted, _m, selected, s);
            int* own = Links(slot, l);
            lock (LinkLock(slot))
            {
                for (int j = 0; j < selected.Count; j++)
                {
                    own[1 + j] = selected[j].Id;
                }
                Volatile.Write(ref own[0], selected.Count);
            }
            for (int j = 0; j < selected.Count; j++)
            {
                ConnectBack<TSpace>(selected[j].Id, slot, l, s);
            }
            cur = s.Sorted[0].Id;
        }

        if (level > maxLevel)
        {
            lock (_entryLock)
            {
                if (level > ReadEntry().Level)
                {
                    Volatile.Write(ref _entry, PackEntry(slot, level));
                }
            }
        }
    }

    /// <summary>hnswlib's "heuristic 2": keep a candidate only when it is closer to the base than to every kept one.</summary>
    private void SelectNeighbors<TSpace>(List<(float D, int Id)> sortedAsc, int max, List<(float D, int Id)> output, SearchScratch s)
        where TSpace : struct, ISpace
    {
        output.Clear();
        if (sortedAsc.Count <= max)
        {
            output.AddRange(sortedAsc);
            return;
        }
        fixed (float* tmp = s.Decode)
        {
            foreach ((float d, int id) in sortedAsc)
            {
                if (output.Count >= max)
                {
                    break;
                }
                float* cv = VectorOf(id, tmp);
                bool good = true;
                foreach ((float _, int sid) in output)
                {
                    if (TSpace.Distance(cv, Code(sid), _dim) < d)
                    {
                        good = false;
                        break;
                    }
                }
                if (good)
                {
                    output.Add((d, id));
                }
            }
        }
        if (_metric == DistanceMetric.InnerProduct && output.Count < max)
        {
            // 1 - dot is not a metric: the heuristic lets a few long vectors "cover" whole neighbourhoods, lists end up
            // with one or two links and nodes that are nobody's neighbour become unreachable (recall stalls below 1 at
            // any ef; hnswlib behaves the same). Filling the list with the closest pruned candidates (the paper's
            // keepPrunedConnections) keeps every node reachable.
            int kept = output.Count;
            foreach ((float d, int id) in sortedAsc)
            {
                if (output.Count >= max)
                {
                    break;
                }
                bool present = false;
                for (int j = 0; j < kept && !present; j++)
                {
                    present = output[j].Id == id;
                }
                if (!present)
                {
                    output.Add((d, id));
                }
            }
        }
    }

    /// <summary>The float vector of <paramref name="slot"/>: a pointer into the block for F32, else decoded into <paramref name="tmp"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private float* VectorOf(int slot, float* tmp)
    {
        if (_storage == VectorStorage.F32)
        {
            return (float*)Code(slot);
        }
        DecodeSlot(slot, tmp);
        return tmp;
    }

    private void ConnectBack<TSpace>(int node, int newSlot, int level, SearchScratch s) where TSpace : struct, ISpace
    {
        int maxC = level == 0 ? _m0 : _m;
        int* ln = Links(node, level);
        lock (LinkLock(node))
        {
            int cnt = ln[0];
            for (int j = 0; j < cnt; j++)
            {
                if (ln[1 + j] == newSlot)
                {
                    return;
                }
            }
            if (cnt < maxC)
            {
                ln[1 + cnt] = newSlot;
                Volatile.Write(ref ln[0], cnt + 1);
                return;
            }
            List<(float D, int Id)> cand = s.Sorted2;
            cand.Clear();
            fixed (float* tmp2 = s.Decode2)
            {
                float* nv = VectorOf(node, tmp2);
                cand.Add((TSpace.Distance(nv, Code(newSlot), _dim), newSlot));
                for (int j = 0; j < cnt; j++)
                {
                    int e = ln[1 + j];
                    cand.Add((TSpace.Distance(nv, Code(e), _dim), e));
                }
            }
            cand.Sort(s_byDistance);
            List<(float D, int Id)> kept = s.Kept;
            SelectNeighbors<TSpace>(cand, maxC, kept, s);
            // Links first, count last: a reader sees either list, and every id in it is a valid node.
            for (int j = 0; j < kept.Count; j++)
            {
                ln[1 + j] = kept[j].Id;
            }
            Volatile.Write(ref ln[0], kept.Count);
        }
    }

    // ------------------------------------------------------------------ search primitives

    private void GreedyStep<TSpace>(float* q, ref int cur, ref float curD, int level) where TSpace : struct, ISpace
    {
        bool changed = true;
        while (changed)
        {
            changed = false;
            int* ln = Links(cur, level);
            int cnt = Math.Min(Volatile.Read(ref ln[0]), _m);
            for (int j = 0; j < cnt; j++)
            {
                int c = ln[1 + j];
                float d = TSpace.Distance(q, Code(c), _dim);
                if (d < curD)
                {
                    curD = d;
                    cur = c;
                    changed = true;
                }
            }
        }
    }

    /// <summary>
    /// ef-bounded best-first search of one level from <paramref name="ep"/>; the results are left in <c>s.Top</c>.
    /// <paramref name="strict"/> (filter or deletions present) keeps exploring until ef allowed results are found.
    /// </summary>
    private void SearchLayer<TSpace, TFilter>(float* q, int ep, int ef, int level, TFilter filter, bool strict, SearchScratch s, bool forBuild)
        where TSpace : struct, ISpace
        where TFilter : struct, ILabelFilter
    {
        ushort tag = s.NextTag();
        ushort[] visited = s.Visited;
        DistHeap top = s.Top, cand = s.Candidates;
        top.Clear();
        cand.Clear();
        int maxC = level == 0 ? _m0 : _m;
        int dim = _dim;

        float d0 = TSpace.Distance(q, Code(ep), dim);
        visited[ep] = tag;
        float lowerBound;
        if (forBuild || Accept(ep, filter))
        {
            top.Push(d0, ep);
            lowerBound = d0;
        }
        else
        {
            lowerBound = float.MaxValue;
        }
        cand.Push(d0, ep);

        while (cand.Count > 0)
        {
            float cd = cand.TopDistance;
            if (cd > lowerBound && (top.Count == ef || !strict))
            {
                break;
            }
            int c = cand.TopId;
            cand.Pop();
            int* ln = Links(c, level);
            int cnt = Math.Min(Volatile.Read(ref ln[0]), maxC);
            if (Sse.IsSupported && cnt > 0)
            {
                Sse.Prefetch0(Code(ln[1]));
            }
            for (int j = 1; j <= cnt; j++)
            {
                int n = ln[j];
                if (Sse.IsSupported && j < cnt)
                {
                    Sse.Prefetch0(Code(ln[j + 1]));
                }
                if (visited[n] == tag)
                {
                    continue;
                }
                visited[n] = tag;
                float d = TSpace.Distance(q, Code(n), dim);
                if (top.Count < ef || d < lowerBound)
                {
                    cand.Push(d, n);
                    if (forBuild || Accept(n, filter))
                    {
                        top.Push(d, n);
                        if (top.Count > ef)
                        {
                            top.Pop();
                        }
                    }
                    if (top.Count > 0)
                    {
                        lowerBound = top.TopDistance;
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Accept<TFilter>(int slot, TFilter filter) where TFilter : struct, ILabelFilter =>
        Volatile.Read(ref _deleted[slot]) == SlotLive && filter.Allows(_labels[slot]);
}
