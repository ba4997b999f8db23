namespace Weft.Core;

/// <summary>A kind of memory a device can allocate buffers from (device-local VRAM, host RAM, pinned host memory).</summary>
public interface IBufferType
{
    /// <summary>Name for errors and profiles ("CPU", "Vulkan0").</summary>
    string Name { get; }

    /// <summary>Byte alignment of every tensor placed in buffers of this type (a power of two).</summary>
    long Alignment { get; }

    /// <summary>Largest single buffer in bytes.</summary>
    long MaxSize { get; }

    /// <summary>True when buffers of this type are host memory with a valid <see cref="IBuffer.HostPointer"/>.</summary>
    bool IsHost { get; }

    /// <summary>Allocates a buffer of <paramref name="size"/> bytes (zero-filled on host types).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is negative or above <see cref="MaxSize"/>.</exception>
    /// <exception cref="OutOfMemoryException">The memory is not available.</exception>
    IBuffer Allocate(long size);

    /// <summary>Bytes a tensor occupies in buffers of this type (at least its <see cref="Tensor.ByteSize"/>; some devices pad).</summary>
    long AllocSize(Tensor tensor) => tensor.ByteSize;

    /// <summary>
    /// (optional) Largest byte range a tensor may span without crossing an internal boundary of a buffer of this type
    /// (devices that build big buffers from several allocations). Placements keep smaller tensors inside one such
    /// range: see <see cref="BufferLayout"/>. The default is <see cref="MaxSize"/>.
    /// </summary>
    long ContiguousLimit => MaxSize;
}
