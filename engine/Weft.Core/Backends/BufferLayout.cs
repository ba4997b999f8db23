namespace Weft.Core;

/// <summary>
/// Lays tensors out in one buffer: each at an aligned offset, and never across a multiple of the buffer type's
/// <see cref="IBufferType.ContiguousLimit"/> unless the tensor is larger than that limit (only matrix weights may be,
/// and backends split those per chunk).
/// </summary>
public static class BufferLayout
{
    /// <summary>Offsets for <paramref name="sizes"/>, in order, and the total buffer size.</summary>
    /// <exception cref="ArgumentException">A size is negative or the alignment is not a power of two.</exception>
    public static (long[] Offsets, long Total) Place(IReadOnlyList<long> sizes, long alignment, long contiguousLimit)
    {
        if (alignment <= 0 || (alignment & (alignment - 1)) != 0)
        {
            throw new ArgumentException($"Alignment {alignment} is not a power of two.", nameof(alignment));
        }
        var offsets = new long[sizes.Count];
        long at = 0;
        for (int i = 0; i < sizes.Count; i++)
        {
            long size = sizes[i];
            if (size < 0)
            {
                throw new ArgumentException($"Size {size} of entry {i} is negative.", nameof(sizes));
            }
            at = checked((at + alignment - 1) & ~(alignment - 1));
            if (contiguousLimit > 0 && size <= contiguousLimit && size > 0 && at / contiguousLimit != (at + size - 1) / contiguousLimit)
            {
                at = checked((at / contiguousLimit + 1) * contiguousLimit);
            }
            offsets[i] = at;
            at = checked(at + size);
        }
        return (offsets, Math.Max(at, alignment));
    }
}
