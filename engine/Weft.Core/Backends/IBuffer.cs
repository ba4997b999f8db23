namespace Weft.Core;

/// <summary>A block of memory owned by a backend device, holding tensor data.</summary>
public interface IBuffer : IDisposable
{
    /// <summary>Size in bytes.</summary>
    long Size { get; }

    /// <summary>Host address of byte 0 when the memory is host-visible and mapped; 0 otherwise.</summary>
    nint HostPointer { get; }

    /// <summary>Copies <paramref name="source"/> into the buffer at <paramref name="offset"/>.</summary>
    void Write(long offset, ReadOnlySpan<byte> source);

    /// <summary>Copies <paramref name="destination"/>.Length bytes at <paramref name="offset"/> out of the buffer.</summary>
    void Read(long offset, Span<byte> destination);

    /// <summary>(optional) The buffer type this buffer was allocated from; null when unknown. The scheduler uses it to find
    /// which backend owns a weight.</summary>
    IBufferType? BufferType => null;
}
