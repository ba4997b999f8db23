namespace Weft.Core;

/// <summary>
/// Entry point of a backend family (CPU, Vulkan): enumerates its <see cref="IDevice"/>s. See <see cref="Scheduler"/>
/// for how registries, devices, backends and buffer types fit together.
/// </summary>
public interface IBackendRegistry
{
    /// <summary>Short name ("CPU", "Vulkan"); <c>WEFT_DISABLE_&lt;NAME&gt;=1</c> (upper case) turns the registry off.</summary>
    string Name { get; }

    /// <summary>Interface version this registry implements; must equal <see cref="BackendApi.Version"/>.</summary>
    int ApiVersion => BackendApi.Version;

    /// <summary>The devices of this backend family present on this machine (may be empty).</summary>
    IReadOnlyList<IDevice> Devices { get; }

    /// <summary>(optional) One line on the registry's state, e.g. why it found no device. The default is null.</summary>
    string? Status => null;
}
