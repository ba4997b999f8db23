using Weft.Core;

namespace Weft.Models.Llama;

/// <summary>
/// The key/value cache of one context: per layer a K and a V tensor of [n_embd_kv, n_ctx] in F16 (default), F32 or
/// Q8_0, written by the graph's SetRows nodes and read by attention. In a single-sequence context rows 0 ..
/// <see cref="Used"/> hold positions 0 .. Used - 1; in a multi-sequence one the context gives rows out to the tokens
/// of its sequences (see <see cref="ContextParams.MaxSequences"/>) and <see cref="Used"/> counts the occupied rows.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly IBuffer _buffer;

    /// <summary>Allocates a cache for <paramref name="size"/> positions.</summary>
    /// <param name="hp">Model hyper-parameters.</param>
    /// <param name="size">Context length in tokens.</param>
    /// <param name="type">F16, F32 or Q8_0.</param>
    /// <param name="allocate">Allocates the buffer (host memory, or device memory for a GPU backend).</param>
    /// <param name="contiguousLimit">The buffer type's <see cref="IBufferType.ContiguousLimit"/>: no layer's tensor crosses a multiple of it.</param>
    /// <exception cref="ArgumentException">Unsupported type or size.</exception>
    public KvCache(LlamaHParams hp, int size, DType type, Func<long, IBuffer> allocate, long contiguousLimit = long.MaxValue)
    {
        if (type is not (DType.F16 or DType.F32 or DType.Q8_0))
        {
            throw new ArgumentException($"KV cache type must be f16, f32 or q8_0, not {TypeTraits.Of(type).Name}.", nameof(type));
        }
        if (type == DType.Q8_0 && hp.HeadDim % 32 != 0)
        {
            throw new ArgumentException($"A q8_0 KV cache needs a head size that is a multiple of 32 (this model's is {hp.HeadDim}).", nameof(type));
        }
        if (size <= 0)
        {
            throw new ArgumentException($"Context size must be positive, not {size}.", nameof(size));
        }
        Size = size;
        Type = type;
        long layerBytes = checked(TypeTraits.Of(type).RowSize(hp.NEmbdKv) * size);
        (long[] offsets, long total) = BufferLayout.Place(Enumerable.Repeat(layerBytes, 2 * hp.NLayer).ToArray(), 256, contiguousLimit);
        _buffer = allocate(total);
        K = new Tensor[hp.NLayer];
        V = new Tensor[hp.NLayer];
        for (int il = 0; il < hp.NLayer; il++)
        {
            K[il] = Place(Tensor.NewLeaf(type, hp.NEmbdKv, size, name: $"cache_k_l{il}"), offsets[2 * il]);
            V[il] = Place(Tensor.NewLeaf(type, hp.NEmbdKv, size, name: $"cache_v_l{il}"), offsets[2 * il + 1]);
        }
    }

    private Tensor Place(Tensor t, long offset)
    {
        t.Buffer = _buffer;
        t.Offset = offset;
        t.Data = _buffer.HostPointer == 0 ? 0 : _buffer.HostPointer + (nint)offset;
        return t;
    }

    /// <summary>Positions the cache holds.</summary>
    public int Size { get; }
    /// <summary>Element type.</summary>
    public DType Type { get; }
    /// <summary>Rows currently filled.</summary>
    public int Used { get; set; }
    /// <summary>Per-layer K tensors [n_embd_kv, size].</summary>
    public Tensor[] K { get; }
    /// <summary>Per-layer V tensors [n_embd_kv, size].</summary>
    public Tensor[] V { get; }
    /// <summary>The buffer holding every layer.</summary>
    public IBuffer Buffer => _buffer;

    /// <summary>Total bytes.</summary>
    public long ByteSize => _buffer.Size;

    /// <inheritdoc/>
    public void Dispose() => _buffer.Dispose();
}
