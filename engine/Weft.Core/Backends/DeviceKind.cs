namespace Weft.Core;

/// <summary>What kind of hardware a <see cref="IDevice"/> drives; the scheduler's fallback order puts CPUs last.</summary>
public enum DeviceKind
{
    /// <summary>The host CPU (the universal fallback).</summary>
    Cpu,
    /// <summary>A GPU with its own memory.</summary>
    GpuDiscrete,
    /// <summary>A GPU sharing memory with the host.</summary>
    GpuIntegrated,
    /// <summary>A virtual GPU (a hypervisor or remoting device).</summary>
    GpuVirtual,
    /// <summary>A software rasteriser exposed as a GPU (lavapipe, SwiftShader): correct but slow, ranked with CPUs.</summary>
    CpuSoftware,
}
