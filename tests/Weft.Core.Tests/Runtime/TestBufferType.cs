using System.Runtime.InteropServices;
using Weft.Core;

namespace Weft.Core.Tests.Runtime;

/// <summary>A host buffer type for Core tests (the real one lives in Weft.Cpu, which Core tests do not reference).</summary>
internal sealed class TestBufferType(long alignment = 32, bool isHost = true) : BufferTypeBase
{
    public int Allocations;

    public override string Name => isHost ? "test-host" : "test-device";
    public override long Alignment => alignment;
    public override long MaxSize => 1L << 40;
    public override bool IsHost => isHost;

    protected override IBuffer AllocateCore(long size)
    {
        Allocations++;
        return new TestBuffer(size, isHost, this);
    }
}

internal sealed unsafe class TestBuffer(long size, bool isHost, IBufferType type) : IBuffer
{
    private readonly nint _ptr = (nint)NativeMemory.AllocZeroed((nuint)Math.Max(size, 1));
    public long Size => size;
    public nint HostPointer => isHost ? _ptr : 0;
    public IBufferType? BufferType => type;
    public bool Disposed { get; private set; }
    public void Write(long offset, ReadOnlySpan<byte> source) => source.CopyTo(new Span<byte>((byte*)_ptr + offset, source.Length));
    public void Read(long offset, Span<byte> destination) => new ReadOnlySpan<byte>((byte*)_ptr + offset, destination.Length).CopyTo(destination);
    public void Dispose()
    {
        if (!Disposed)
        {
            Disposed = true;
            NativeMemory.Free((void*)_ptr);
        }
    }
}
