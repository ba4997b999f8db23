namespace Weft.Core;

/// <summary>
/// One physical or virtual device of a backend family: says which nodes and buffer types it can handle and creates
/// <see cref="IBackend"/> streams. See <see cref="Scheduler"/> for a worked example.
/// </summary>
public interface IDevice
{
    /// <summary>Short unique name ("CPU", "Vulkan0").</summary>
    string Name { get; }

    /// <summary>Human-readable description (model name, driver, ISA).</summary>
    string Description { get; }

    /// <summary>The kind of hardware.</summary>
    DeviceKind Kind { get; }

    /// <summary>Free and total memory of the device.</summary>
    DeviceMemory GetMemory();

    /// <summary>True when a backend of this device can compute <paramref name="node"/> (its op, dtypes and layout). Never throws.</summary>
    bool Supports(Tensor node);

    /// <summary>True when backends of this device can read and write buffers of <paramref name="bufferType"/> directly. Never throws.</summary>
    bool SupportsBufferType(IBufferType bufferType);

    /// <summary>Creates a backend (an execution stream) on this device; the caller disposes it.</summary>
    IBackend CreateBackend();

    /// <summary>The buffer type to place this device's tensors in.</summary>
    IBufferType DefaultBufferType { get; }

    /// <summary>(optional) A host buffer type this device reads fast (pinned memory) for staging; null when none.</summary>
    IBufferType? HostBufferType => null;
}
