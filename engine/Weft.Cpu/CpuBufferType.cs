using Weft.Core;

namespace Weft.Cpu;

/// <summary>Host memory buffers (<see cref="HostBuffer"/>), 64-byte aligned.</summary>
public sealed class CpuBufferType : BufferTypeBase
{
    /// <summary>The single instance.</summary>
    public static CpuBufferType Instance { get; } = new();

    private CpuBufferType()
    {
    }

    /// <inheritdoc/>
    public override string Name => "CPU";

    /// <inheritdoc/>
    public override long Alignment => HostBuffer.Alignment;

    /// <inheritdoc/>
    public override long MaxSize => long.MaxValue / 2;

    /// <inheritdoc/>
    public override bool IsHost => true;

    /// <inheritdoc/>
    protected override IBuffer AllocateCore(long size) => new HostBuffer(size, this);
}
