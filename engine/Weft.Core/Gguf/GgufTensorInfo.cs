namespace Weft.Core.Gguf;

/// <summary>One tensor's entry in a GGUF file's tensor table.</summary>
/// <param name="Index">Position in the table (0-based).</param>
/// <param name="Name">Tensor name, e.g. <c>blk.0.attn_q.weight</c>.</param>
/// <param name="NDims">Number of dimensions as stored (0..4).</param>
/// <param name="Ne">Elements per dimension; dimensions beyond <paramref name="NDims"/> are 1.</param>
/// <param name="Type">Element type (ggml type ids equal <see cref="DType"/> values).</param>
/// <param name="Offset">Byte offset of the data relative to the start of the data section.</param>
/// <param name="ByteSize">Bytes of data (contiguous).</param>
public sealed record GgufTensorInfo(int Index, string Name, int NDims, Long4 Ne, DType Type, long Offset, long ByteSize)
{
    /// <summary>Value equality over every field (<see cref="Long4"/> is compared element by element).</summary>
    public bool Equals(GgufTensorInfo? other) =>
        other is not null && Index == other.Index && Name == other.Name && NDims == other.NDims && Type == other.Type &&
        Offset == other.Offset && ByteSize == other.ByteSize &&
        Ne[0] == other.Ne[0] && Ne[1] == other.Ne[1] && Ne[2] == other.Ne[2] && Ne[3] == other.Ne[3];

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Index, Name, Type, Offset, Ne[0], Ne[1], Ne[2], Ne[3]);

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {TypeTraits.Of(Type).Name} [{string.Join(", ", Shape)}] @{Offset} ({ByteSize} bytes)";

    /// <summary>Total number of elements.</summary>
    public long ElementCount => Ne[0] * Ne[1] * Ne[2] * Ne[3];

    /// <summary>The stored dimensions, e.g. <c>[64, 512]</c> (length <see cref="NDims"/>).</summary>
    public long[] Shape
    {
        get
        {
            var s = new long[NDims];
            for (int i = 0; i < NDims; i++)
            {
                s[i] = Ne[i];
            }
            return s;
        }
    }

    /// <summary>Bytes of contiguous data for a tensor of <paramref name="type"/> and sizes <paramref name="ne"/>.</summary>
    /// <exception cref="ArgumentException">ne0 is not a multiple of the block size, or a size is negative.</exception>
    /// <exception cref="OverflowException">The size does not fit in a long.</exception>
    public static long ComputeByteSize(DType type, Long4 ne)
    {
        TypeTraits tt = TypeTraits.Of(type);
        long rows = checked(ne[1] * ne[2] * ne[3]);
        if (rows < 0)
        {
            throw new ArgumentException($"Negative tensor size {ne}.", nameof(ne));
        }
        return checked(tt.RowSize(ne[0]) * rows);
    }
}
