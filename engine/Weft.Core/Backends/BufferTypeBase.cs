namespace Weft.Core;

/// <summary>Base class for buffer types: <see cref="Allocate"/> validates the size, then calls <see cref="AllocateCore"/>.</summary>
public abstract class BufferTypeBase : IBufferType
{
    /// <inheritdoc/>
    public abstract string Name { get; }

    /// <inheritdoc/>
    public abstract long Alignment { get; }

    /// <inheritdoc/>
    public abstract long MaxSize { get; }

    /// <inheritdoc/>
    public abstract bool IsHost { get; }

    /// <inheritdoc/>
    public IBuffer Allocate(long size)
    {
        if (size < 0 || size > MaxSize)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, $"Buffer type '{Name}' allocates 0..{MaxSize} bytes per buffer; split the model or use a smaller context.");
        }
        return AllocateCore(size);
    }

    /// <summary>Allocates a buffer of a validated size.</summary>
    protected abstract IBuffer AllocateCore(long size);

    /// <inheritdoc/>
    public override string ToString() => Name;
}
