using Weft.Core;

namespace Weft.Cpu;

/// <summary>The CPU backend family: one device, the host CPU. Register it last (it is the universal fallback).</summary>
public sealed class CpuBackendRegistry : IBackendRegistry
{
    private readonly IDevice[] _devices = [CpuDevice.Instance];

    /// <inheritdoc/>
    public string Name => "CPU";

    /// <inheritdoc/>
    public IReadOnlyList<IDevice> Devices => _devices;
}
