using Weft.Core;
using Weft.Vulkan.Interop;

namespace Weft.Vulkan;

/// <summary>
/// A device buffer, made of one or more chunks (separate VkBuffers) so that no allocation exceeds the device's
/// maxMemoryAllocationSize / maxStorageBufferRange (or <c>WEFT_VULKAN_MAX_ALLOC</c>). Host access goes through a
/// mapping when the memory is host-visible and coherent (integrated GPUs, lavapipe), otherwise through a staging
/// buffer and a transfer; <see cref="HostPointer"/> is always 0 so the rest of Weft treats it as device memory.
/// </summary>
public sealed unsafe class VulkanBuffer : IBuffer
{
    private const long StagingChunk = 16 << 20;
    private readonly VulkanContext _ctx;
    private readonly Chunk[] _chunks;
    private bool _disposed;

    internal readonly record struct Chunk(ulong Handle, ulong Memory, nint Mapped, long Start, long Size);

    internal VulkanBuffer(VulkanContext ctx, VulkanBufferType type, long size, bool clear = true)
    {
        _ctx = ctx;
        Type = type;
        Size = size;
        long cap = type.Device.MaxAllocation & ~255L;
        int n = (int)Math.Max(1, (size + cap - 1) / cap);
        _chunks = new Chunk[n];
        try
        {
            for (int i = 0; i < n; i++)
            {
                long start = i * cap;
                long len = Math.Min(cap, size - start);
                var (h, m, p) = ctx.CreateBuffer(Math.Max(len, 4), host: false);
                _chunks[i] = new Chunk(h, m, p, start, len);
                if (!clear)
                {
                    continue;
                }
                if (p != 0)
                {
                    for (long done = 0; done < len; done += int.MaxValue)
                    {
                        new Span<byte>((byte*)p + done, (int)Math.Min(int.MaxValue, len - done)).Clear();
                    }
                }
                else
                {
                    ctx.Submit(cmd => ctx.Api.CmdFillBuffer(cmd, h, 0, ulong.MaxValue, 0));
                }
            }
        }
        catch
        {
            Release();
            throw;
        }
    }

    internal ReadOnlySpan<Chunk> Chunks => _chunks;

    internal VulkanBufferType Type { get; }

    /// <inheritdoc/>
    public long Size { get; }

    /// <inheritdoc/>
    public nint HostPointer => 0;

    /// <inheritdoc/>
    public IBufferType? BufferType => Type;

    /// <summary>The chunk holding all of [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="length"/>), or -1.</summary>
    internal int ChunkOf(long offset, long length)
    {
        for (int i = 0; i < _chunks.Length; i++)
        {
            if (offset >= _chunks[i].Start && offset + length <= _chunks[i].Start + _chunks[i].Size)
            {
                return i;
            }
        }
        return -1;
    }

    /// <inheritdoc/>
    public void Write(long offset, ReadOnlySpan<byte> source)
    {
        CheckRange(offset, source.Length);
        foreach (Chunk c in _chunks)
        {
            long lo = Math.Max(offset, c.Start), hi = Math.Min(offset + source.Length, c.Start + c.Size);
            if (lo < hi)
            {
                WriteChunk(c, lo - c.Start, source.Slice((int)(lo - offset), (int)(hi - lo)));
            }
        }
    }

    /// <inheritdoc/>
    public void Read(long offset, Span<byte> destination)
    {
        CheckRange(offset, destination.Length);
        foreach (Chunk c in _chunks)
        {
            long lo = Math.Max(offset, c.Start), hi = Math.Min(offset + destination.Length, c.Start + c.Size);
            if (lo < hi)
            {
                ReadChunk(c, lo - c.Start, destination.Slice((int)(lo - offset), (int)(hi - lo)));
            }
        }
    }

    private void WriteChunk(Chunk c, long offset, ReadOnlySpan<byte> source)
    {
        if (c.Mapped != 0)
        {
            source.CopyTo(new Span<byte>((byte*)c.Mapped + offset, source.Length));
            return;
        }
        fixed (byte* src = source)
        {
            byte* from = src;
            int length = source.Length;
            for (int done = 0; done < length; done += (int)StagingChunk)
            {
                int n = (int)Math.Min(StagingChunk, length - done);
                long at = offset + done;
                int start = done;
                _ctx.WithStaging(n, (sb, sp) =>
                {
                    Buffer.MemoryCopy(from + start, (void*)sp, n, n);
                    _ctx.Submit(cmd =>
                    {
                        var region = new VkBufferCopy { SrcOffset = 0, DstOffset = (ulong)at, Size = (ulong)n };
                        _ctx.Api.CmdCopyBuffer(cmd, sb, c.Handle, 1, &region);
                    });
                });
            }
        }
    }

    private void ReadChunk(Chunk c, long offset, Span<byte> destination)
    {
        if (c.Mapped != 0)
        {
            new ReadOnlySpan<byte>((byte*)c.Mapped + offset, destination.Length).CopyTo(destination);
            return;
        }
        fixed (byte* dst = destination)
        {
            byte* to = dst;
            int length = destination.Length;
            for (int done = 0; done < length; done += (int)StagingChunk)
            {
                int n = (int)Math.Min(StagingChunk, length - done);
                long at = offset + done;
                int start = done;
                _ctx.WithStaging(n, (sb, sp) =>
                {
                    _ctx.Submit(cmd =>
                    {
                        var region = new VkBufferCopy { SrcOffset = (ulong)at, DstOffset = 0, Size = (ulong)n };
                        _ctx.Api.CmdCopyBuffer(cmd, c.Handle, sb, 1, &region);
                        _ctx.Barrier(cmd);
                    });
                    Buffer.MemoryCopy((void*)sp, to + start, n, n);
                });
            }
        }
    }

    private void CheckRange(long offset, int length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (offset < 0 || offset + length > Size)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), $"Range [{offset}, {offset + length}) is outside Vulkan buffer of {Size} bytes.");
        }
    }

    private void Release()
    {
        foreach (Chunk c in _chunks)
        {
            if (c.Handle != 0)
            {
                _ctx.DestroyBuffer(c.Handle, c.Memory, Math.Max(c.Size, 4));
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        Release();
    }
}
