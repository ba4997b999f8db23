namespace Weft.Core.Gguf;

/// <summary>
/// The data section of a <see cref="GgufFile"/> as an <see cref="IBuffer"/>: host memory inside the file mapping.
/// Disposing it does nothing; the owning file unmaps the memory.
/// </summary>
internal sealed unsafe class GgufMappedBuffer(GgufFile owner, nint pointer, long size, bool writable) : IBuffer
{
    /// <inheritdoc/>
    public long Size => size;

    /// <inheritdoc/>
    public nint HostPointer => owner.IsDisposed ? 0 : pointer;

    private void CheckRange(long offset, int count)
    {
        ObjectDisposedException.ThrowIf(owner.IsDisposed, owner);
        if (offset < 0 || offset > size || count > size - offset)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"Range [{offset}, {offset + count}) is outside the {size}-byte data section of {owner.FilePath}.");
        }
    }

    /// <inheritdoc/>
    /// <remarks>The mapping is copy-on-write: the file itself never changes.</remarks>
    /// <exception cref="NotSupportedException">The file was parsed from read-only memory.</exception>
    public void Write(long offset, ReadOnlySpan<byte> source)
    {
        if (!writable)
        {
            throw new NotSupportedException($"The data section of {owner.FilePath} is read-only memory (parsed with GgufFile.Parse).");
        }
        CheckRange(offset, source.Length);
        source.CopyTo(new Span<byte>((byte*)pointer + offset, source.Length));
    }

    /// <inheritdoc/>
    public void Read(long offset, Span<byte> destination)
    {
        CheckRange(offset, destination.Length);
        new ReadOnlySpan<byte>((byte*)pointer + offset, destination.Length).CopyTo(destination);
    }

    /// <summary>Does nothing: the owning <see cref="GgufFile"/> releases the mapping.</summary>
    public void Dispose()
    {
    }
}
