using System.Runtime.InteropServices;
using Weft.Core;

namespace Weft.Cpu;

/// <summary>Host memory from <see cref="NativeMemory.AlignedAlloc(nuint, nuint)"/>, 64-byte aligned (a cache line, and a Vector512), zero-filled.</summary>
public sealed unsafe class HostBuffer : IBuffer
{
    /// <summary>Alignment of the start of every host buffer, in bytes.</summary>
    public const int Alignment = 64;
    private nint _ptr;

    /// <summary>Allocates <paramref name="size"/> zeroed bytes.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is negative.</exception>
    /// <exception cref="OutOfMemoryException">The memory is not available.</exception>
    public HostBuffer(long size, IBufferType? bufferType = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        // At least one byte so that an empty buffer still has a valid, aligned address.
        nuint bytes = (nuint)Math.Max(size, 1);
        _ptr = (nint)NativeMemory.AlignedAlloc(bytes, Alignment);
        NativeMemory.Clear((void*)_ptr, bytes);
        Size = size;
        BufferType = bufferType;
    }

    /// <inheritdoc/>
    public long Size { get; }

    /// <inheritdoc/>
    public nint HostPointer => _ptr;

    /// <inheritdoc/>
    public IBufferType? BufferType { get; }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside the buffer.</exception>
    /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
    public void Write(long offset, ReadOnlySpan<byte> source)
    {
        CheckRange(offset, source.Length);
        source.CopyTo(new Span<byte>((byte*)_ptr + offset, source.Length));
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside the buffer.</exception>
    /// <exception cref="ObjectDisposedException">The buffer was disposed.</exception>
    public void Read(long offset, Span<byte> destination)
    {
        CheckRange(offset, destination.Length);
        new ReadOnlySpan<byte>((byte*)_ptr + offset, destination.Length).CopyTo(destination);
    }

    private void CheckRange(long offset, int length)
    {
        ObjectDisposedException.ThrowIf(_ptr == 0, this);
        if (offset < 0 || offset + length > Size)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"Range [{offset}, {offset + length}) is outside the host buffer of {Size} bytes.");
        }
    }

    /// <summary>Frees the memory.</summary>
    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    // Safety net for buffers that tests or tools forget to dispose.
    ~HostBuffer() => Free();

    private void Free()
    {
        nint p = Interlocked.Exchange(ref _ptr, 0);
        if (p != 0)
        {
            NativeMemory.AlignedFree((void*)p);
        }
    }
}
