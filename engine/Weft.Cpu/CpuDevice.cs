using Weft.Core;

namespace Weft.Cpu;

/// <summary>The host CPU as a device: supports the nodes that a registered <see cref="ICpuOp"/> supports, and views.</summary>
public sealed class CpuDevice : IDevice
{
    /// <summary>The device backed by <see cref="CpuOpTable.Default"/>.</summary>
    public static CpuDevice Instance { get; } = new(CpuOpTable.Default);

    /// <summary>Creates a CPU device whose backends use <paramref name="ops"/>.</summary>
    public CpuDevice(CpuOpTable ops)
    {
        ArgumentNullException.ThrowIfNull(ops);
        Ops = ops;
    }

    /// <summary>The op implementations of this device.</summary>
    public CpuOpTable Ops { get; }

    /// <inheritdoc/>
    public string Name => "CPU";

    /// <inheritdoc/>
    public string Description => $"{Environment.ProcessorCount} logical cores, {CpuFeatures.Describe()}";

    /// <inheritdoc/>
    public DeviceKind Kind => DeviceKind.Cpu;

    /// <inheritdoc/>
    public DeviceMemory GetMemory()
    {
        GCMemoryInfo info = GC.GetGCMemoryInfo();
        long total = info.TotalAvailableMemoryBytes;
        return new DeviceMemory(Math.Max(0, total - info.MemoryLoadBytes), total);
    }

    /// <inheritdoc/>
    public bool Supports(Tensor node) => node is not null && (node.IsView || Ops.Supports(node));

    /// <inheritdoc/>
    public bool SupportsBufferType(IBufferType bufferType) => bufferType is not null && bufferType.IsHost;

    /// <inheritdoc/>
    public IBackend CreateBackend() => new CpuBackend(this);

    /// <inheritdoc/>
    public IBufferType DefaultBufferType => CpuBufferType.Instance;

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({Description})";
}
