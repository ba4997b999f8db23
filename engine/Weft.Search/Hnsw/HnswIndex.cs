using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using Weft.Search.Vectors;

namespace Weft.Search.Hnsw;

/// <summary>
/// Hierarchical navigable small world graph (Malkov &amp; Yashunin) for approximate nearest-neighbour search.
/// </summary>
/// <remarks>
/// <para>Memory layout: one level-0 block per slot, <c>[count|links(2M)][vector code]</c>, in one native array with the
/// offsets computed once; upper-level links live in a small array per node; labels, levels and deleted flags in
/// arrays beside it. With F16/Int8 storage a float copy of every vector is kept for re-scoring the final candidates.</para>
/// <para>Concurrency: any number of searches run alongside writers. Adds may also run in parallel (multi-threaded
/// build). Link lists are written under a per-node lock, links before their count, so a reader never sees an id that
/// is not fully initialised; vectors are written before a node is linked; overwriting a reused or updated slot's
/// vector and growing the arrays take the exclusive lock, so searches never see a torn vector.</para>
/// <code>
/// using var index = new HnswIndex(new HnswOptions { Dimension = 128, M = 16, EfConstruction = 200 });
/// index.AddRange(vectors, labels, threads: 4);
/// SearchHit[] hits = index.Search(query, k: 10, ef: 64);
/// index.Save("vectors.hnsw");
/// using var again = HnswIndex.Load("vectors.hnsw");
/// </code>
/// </remarks>
public sealed unsafe partial class HnswIndex : IDisposable
{
    private readonly int _dim;
    private readonly int _m;
    private readonly int _m0;
    private readonly int _efConstruction;
    private readonly double _levelMult;
    private readonly DistanceMetric _metric;
    private readonly VectorStorage _storage;
    private readonly int _codeBytes;
    private readonly int _blockSize;
    private readonly int _codeOffset;
    private readonly int _seed;

    private int _ef;
    private int _capacity;
    private int _count; // slots in use (live + deleted)
    private int _deletedCount;
    private byte* _level0;
    private float* _exact; // float copy for re-scoring (F16/Int8 only)
    private long[] _labels;
    private int[] _levels;
    private nint[] _upper; // per node: native int[(level)*(M+1)] upper-level link lists, or 0
    private byte[] _deleted;
    private readonly Dictionary<long, int> _labelToSlot = new();
    private readonly Stack<int> _freeSlots = new();
    private readonly object _labelLock = new();
    private readonly object _entryLock = new();
    private readonly object[] _linkLocks;
    private readonly ReaderWriterLockSlim _rw = new(LockRecursionPolicy.NoRecursion);
    private readonly LevelGenerator _rng;
    // Entry point and top level packed in one word (level << 32 | slot), so readers always see a consistent pair.
    private long _entry = -1;
    private bool _disposed;

    /// <summary>Creates an empty index.</summary>
    /// <exception cref="ArgumentException">A parameter is out of range (the message names it).</exception>
    public HnswIndex(HnswOptions options)
        : this(Validate(options), 0)
    {
    }

    private HnswIndex(HnswOptions o, int _)
    {
        _dim = o.Dimension;
        _m = o.M;
        _m0 = 2 * o.M;
        _efConstruction = Math.Max(o.EfConstruction, o.M);
        _ef = o.Ef;
        _levelMult = 1.0 / Math.Log(o.M);
        _metric = o.Metric;
        _storage = o.Storage;
        _seed = o.Seed;
        _rng = new LevelGenerator(o.Seed);
        _codeBytes = o.Storage switch
        {
            VectorStorage.F32 => 4 * _dim,
            VectorStorage.F16 => 2 * _dim,
            VectorStorage.Int8 => 4 + _dim,
            _ => throw new ArgumentOutOfRangeException(nameof(o), o.Storage, "unknown vector storage"),
        };
        _codeOffset = 4 * (1 + _m0);
        // Round the block to 4 bytes so every float code stays 4-byte aligned.
        _blockSize = (_codeOffset + _codeBytes + 3) & ~3;
        _linkLocks = new object[1 << 12];
        for (int i = 0; i < _linkLocks.Length; i++)
        {
            _linkLocks[i] = new object();
        }
        _capacity = 0;
        _labels = [];
        _levels = [];
        _upper = [];
        _deleted = [];
        Grow(Math.Max(1, o.Capacity));
    }

    private static HnswOptions Validate(HnswOptions o)
    {
        ArgumentNullException.ThrowIfNull(o);
        if (o.Dimension is < 1 or > 65536)
        {
            throw new ArgumentOutOfRangeException(nameof(o), o.Dimension, "Dimension must be in 1..65536");
        }
        if (o.M is < 2 or > 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(o), o.M, "M must be in 2..1024 (typical 8..48)");
        }
        if (o.EfConstruction is < 1 or > 1_000_000)
        {
            throw new ArgumentOutOfRangeException(nameof(o), o.EfConstruction, "EfConstruction must be in 1..1000000");
        }
        if (o.Ef is < 1 or > 1_000_000)
        {
            throw new ArgumentOutOfRangeException(nameof(o), o.Ef, "Ef must be in 1..1000000");
        }
        if (o.Capacity is < 0 or > int.MaxValue / 2)
        {
            throw new ArgumentOutOfRangeException(nameof(o), o.Capacity, "Capacity must be non-negative");
        }
        if (!Enum.IsDefined(o.Metric))
        {
            throw new ArgumentOutOfRangeException(nameof(o), o.Metric, "unknown distance metric");
        }
        return o;
    }

    /// <summary>Vector dimension.</summary>
    public int Dimension => _dim;
    /// <summary>Distance metric.</summary>
    public DistanceMetric Metric => _metric;
    /// <summary>Vector storage on the traversal path.</summary>
    public VectorStorage Storage => _storage;
    /// <summary>Links per node on upper levels (level 0 has twice as many).</summary>
    public int M => _m;
    /// <summary>Build-time candidate list size.</summary>
    public int EfConstruction => _efConstruction;
    /// <summary>Seed of the level generator.</summary>
    public int Seed => _seed;

    /// <summary>Default query-time candidate list size, persisted with the index.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Less than 1.</exception>
    public int Ef
    {
        get => _ef;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _ef = value;
        }
    }

    /// <summary>Number of live (not deleted) vectors.</summary>
    public int Count => Volatile.Read(ref _count) - Volatile.Read(ref _deletedCount);
    /// <summary>Slots allocated; grows by itself on add.</summary>
    public int Capacity => _capacity;
    /// <summary>Slots holding deleted vectors, reused by later adds.</summary>
    public int DeletedCount => Volatile.Read(ref _deletedCount);

    /// <summary>
    /// Fraction of live vectors a filter may allow below which <see cref="Search{TFilter}"/> switches from graph search
    /// to exact search over the allowed vectors (graph search loses recall when few nodes qualify). Default 0.03.
    /// </summary>
    public double ExactFilterThreshold { get; set; } = 0.03;

    /// <summary>Bytes of memory held by the index (native blocks, float copies, link arrays, labels).</summary>
    public long MemoryBytes
    {
        get
        {
            long b = (long)_capacity * (_blockSize + 8 + 4 + 1 + 8);
            if (_exact != null)
            {
                b += (long)_capacity * _dim * 4;
            }
            for (int i = 0; i < _count; i++)
            {
                b += 4L * _levels[i] * (_m + 1);
            }
            return b + _labelToSlot.Count * 24L;
        }
    }

    // ------------------------------------------------------------------ slot access

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* Block(int slot) => _level0 + (long)slot * _blockSize;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* Code(int slot) => _level0 + (long)slot * _blockSize + _codeOffset;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private object LinkLock(int slot) => _linkLocks[slot & (_linkLocks.Length - 1)];

    /// <summary>Writes the float vector of <paramref name="slot"/> into <paramref name="dst"/> (decoding F16/Int8 codes).</summary>
    private void DecodeSlot(int slot, float* dst)
    {
        byte* code = Code(slot);
        switch (_storage)
        {
            case VectorStorage.F32:
                Buffer.MemoryCopy(code, dst, _dim * 4L, _dim * 4L);
                break;
            case VectorStorage.F16:
                TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(code, _dim), new Span<float>(dst, _dim));
                break;
            case VectorStorage.Int8:
                float s = *(float*)code;
                sbyte* c = (sbyte*)(code + 4);
                for (int i = 0; i < _dim; i++)
                {
                    dst[i] = s * c[i];
                }
                break;
            default:
                throw new System.Diagnostics.UnreachableException($"storage {_storage}");
        }
    }

    private void EncodeSlot(int slot, ReadOnlySpan<float> v)
    {
        byte* code = Code(slot);
        switch (_storage)
        {
            case VectorStorage.F32:
                v.CopyTo(new Span<float>(code, _dim));
                break;
            case VectorStorage.F16:
                TensorPrimitives.ConvertToHalf(v, new Span<Half>(code, _dim));
                break;
            case VectorStorage.Int8:
                *(float*)code = DistanceKernels.QuantizeInt8(v, new Span<sbyte>(code + 4, _dim));
                break;
            default:
                throw new System.Diagnostics.UnreachableException($"storage {_storage}");
        }
        if (_exact != null)
        {
            v.CopyTo(new Span<float>(_exact + (long)slot * _dim, _dim));
        }
    }

    /// <summary>Exact float distance between <paramref name="q"/> and the vector of <paramref name="slot"/>.</summary>
    private float ExactDistance(float* q, int slot)
    {
        float* v = _exact != null ? _exact + (long)slot * _dim : (float*)Code(slot);
        return _metric == DistanceMetric.L2 ? DistanceKernels.L2Squared(q, v, _dim) : 1f - DistanceKernels.Dot(q, v, _dim);
    }

    private void Grow(int newCapacity)
    {
        byte* l0 = (byte*)NativeMemory.AlignedAlloc((nuint)((long)newCapacity * _blockSize), 64);
        float* ex = _storage == VectorStorage.F32 ? null : (float*)NativeMemory.AlignedAlloc((nuint)((long)newCapacity * _dim * 4), 64);
        if (_level0 != null)
        {
            Buffer.MemoryCopy(_level0, l0, (long)newCapacity * _blockSize, (long)_count * _blockSize);
            NativeMemory.AlignedFree(_level0);
            if (_exact != null)
            {
                Buffer.MemoryCopy(_exact, ex, (long)newCapacity * _dim * 4, (long)_count * _dim * 4);
                NativeMemory.AlignedFree(_exact);
            }
        }
        _level0 = l0;
        _exact = ex;
        Array.Resize(ref _labels, newCapacity);
        Array.Resize(ref _levels, newCapacity);
        Array.Resize(ref _upper, newCapacity);
        Array.Resize(ref _deleted, newCapacity);
        _capacity = newCapacity;
    }

    /// <summary>Changes the capacity (slots allocated). Blocks searches and adds while it copies.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Smaller than the slots in use.</exception>
    public void Resize(int newCapacity)
    {
        ThrowIfDisposed();
        _rw.EnterWriteLock();
        try
        {
            if (newCapacity < _count)
            {
                throw new ArgumentOutOfRangeException(nameof(newCapacity), newCapacity,
                    $"capacity cannot be below the {_count} slots in use (deleted slots included)");
            }
            if (newCapacity != _capacity)
            {
                Grow(Math.Max(1, newCapacity));
            }
        }
        finally
        {
            _rw.ExitWriteLock();
        }
    }

    private void EnsureCapacity(int needed)
    {
        if (needed <= _capacity)
        {
            return;
        }
        _rw.EnterWriteLock();
        try
        {
            if (needed > _capacity)
            {
                Grow(Math.Max(needed, _capacity + Math.Max(1024, _capacity / 2)));
            }
        }
        finally
        {
            _rw.ExitWriteLock();
        }
    }

    // ------------------------------------------------------------------ queries on labels

    /// <summary>True when a live vector has <paramref name="label"/>.</summary>
    public bool Contains(long label)
    {
        lock (_labelLock)
        {
            return _labelToSlot.TryGetValue(label, out int s) && _deleted[s] == 0;
        }
    }

    /// <summary>The stored vector of <paramref name="label"/> (normalized for cosine; exact for every storage).</summary>
    /// <exception cref="KeyNotFoundException">No live vector has that label.</exception>
    public float[] GetVector(long label)
    {
        ThrowIfDisposed();
        _rw.EnterReadLock();
        try
        {
            int slot;
            lock (_labelLock)
            {
                if (!_labelToSlot.TryGetValue(label, out slot) || _deleted[slot] != 0)
                {
                    throw new KeyNotFoundException($"no vector with label {label} in the index");
                }
            }
            float[] v = new float[_dim];
            fixed (float* p = v)
            {
                if (_exact != null)
                {
                    Buffer.MemoryCopy(_exact + (long)slot * _dim, p, _dim * 4L, _dim * 4L);
                }
                else
                {
                    DecodeSlot(slot, p);
                }
            }
            return v;
        }
        finally
        {
            _rw.ExitReadLock();
        }
    }

    /// <summary>Labels of all live vectors, in slot order.</summary>
    public long[] GetLabels()
    {
        _rw.EnterReadLock();
        try
        {
            var list = new List<long>(Count);
            int n = Volatile.Read(ref _count);
            for (int i = 0; i < n; i++)
            {
                if (Volatile.Read(ref _deleted[i]) == 0)
                {
                    list.Add(_labels[i]);
                }
            }
            return list.ToArray();
        }
        finally
        {
            _rw.ExitReadLock();
        }
    }

    /// <summary>Marks the vector of <paramref name="label"/> deleted: it is no longer returned, its slot is reused by a later add.</summary>
    /// <returns>False when no live vector had that label.</returns>
    public bool Delete(long label)
    {
        ThrowIfDisposed();
        lock (_labelLock)
        {
            if (!_labelToSlot.Remove(label, out int slot))
            {
                return false;
            }
            Volatile.Write(ref _deleted[slot], 1);
            Interlocked.Increment(ref _deletedCount);
            _freeSlots.Push(slot);
            return true;
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>Frees the native memory. Must not race with other calls.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        if (_level0 != null)
        {
            NativeMemory.AlignedFree(_level0);
            _level0 = null;
        }
        if (_exact != null)
        {
            NativeMemory.AlignedFree(_exact);
            _exact = null;
        }
        for (int i = 0; i < _upper.Length; i++)
        {
            if (_upper[i] != 0)
            {
                NativeMemory.Free((void*)_upper[i]);
                _upper[i] = 0;
            }
        }
        _rw.Dispose();
    }
}
