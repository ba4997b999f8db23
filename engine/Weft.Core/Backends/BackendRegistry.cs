using System.Reflection;

namespace Weft.Core;

/// <summary>
/// The backend families known to an application, in priority order: GPU registries first (in the order added), CPU
/// registries last as the universal fallback. <c>WEFT_DISABLE_&lt;NAME&gt;=1</c> (for example <c>WEFT_DISABLE_VULKAN=1</c>)
/// removes a registry when it is added.
/// </summary>
public sealed class BackendRegistry
{
    private static readonly string[] s_knownAssemblies = ["Weft.Vulkan", "Weft.Cpu"];
    private static readonly Lazy<BackendRegistry> s_default = new(Discover);
    private readonly List<IBackendRegistry> _registries = new();
    private readonly List<string> _disabled = new();

    /// <summary>The registries of the backend assemblies found next to the application (Weft.Vulkan, Weft.Cpu).</summary>
    public static BackendRegistry Default => s_default.Value;

    /// <summary>Registries in priority order.</summary>
    public IReadOnlyList<IBackendRegistry> Registries => _registries;

    /// <summary>Names of registries that were skipped because their <c>WEFT_DISABLE_*</c> variable is set.</summary>
    public IReadOnlyList<string> Disabled => _disabled;

    /// <summary>Every device of every registry in priority order (non-CPU devices first, CPU devices last).</summary>
    public IReadOnlyList<IDevice> Devices
    {
        get
        {
            var list = new List<IDevice>();
            foreach (IBackendRegistry r in _registries)
            {
                foreach (IDevice d in r.Devices)
                {
                    if (!IsCpuLike(d.Kind))
                    {
                        list.Add(d);
                    }
                }
            }
            foreach (IBackendRegistry r in _registries)
            {
                foreach (IDevice d in r.Devices)
                {
                    if (IsCpuLike(d.Kind))
                    {
                        list.Add(d);
                    }
                }
            }
            return list;
        }
    }

    /// <summary>True when the environment variable <c>WEFT_DISABLE_&lt;NAME&gt;</c> is set to a value other than "0" or "".</summary>
    public static bool IsDisabledByEnvironment(string registryName)
    {
        string? v = Environment.GetEnvironmentVariable("WEFT_DISABLE_" + registryName.ToUpperInvariant());
        return !string.IsNullOrEmpty(v) && v != "0";
    }

    /// <summary>Adds a registry (unless disabled by the environment); CPU registries should be added last.</summary>
    /// <returns>True when added, false when disabled or already present.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="registry"/> is null.</exception>
    /// <exception cref="NotSupportedException">The registry implements another interface version.</exception>
    public bool Add(IBackendRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        if (registry.ApiVersion != BackendApi.Version)
        {
            throw new NotSupportedException($"Backend registry '{registry.Name}' implements backend API version {registry.ApiVersion}, this Weft.Core needs {BackendApi.Version}; rebuild the backend against this Weft.Core.");
        }
        if (IsDisabledByEnvironment(registry.Name))
        {
            _disabled.Add(registry.Name);
            return false;
        }
        foreach (IBackendRegistry r in _registries)
        {
            if (string.Equals(r.Name, registry.Name, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }
        _registries.Add(registry);
        return true;
    }

    /// <summary>Finds a registry by name (case-insensitive), or null.</summary>
    public IBackendRegistry? Find(string name)
    {
        foreach (IBackendRegistry r in _registries)
        {
            if (string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return r;
            }
        }
        return null;
    }

    private static bool IsCpuLike(DeviceKind kind) => kind is DeviceKind.Cpu or DeviceKind.CpuSoftware;

    // Backends are found by loading the known backend assemblies by name (a missing one is simply absent) and taking
    // their public IBackendRegistry types with a parameterless constructor; the core never references a backend.
    private static BackendRegistry Discover()
    {
        var result = new BackendRegistry();
        foreach (string name in s_knownAssemblies)
        {
            Assembly asm;
            try
            {
                asm = Assembly.Load(new AssemblyName(name));
            }
            catch (FileNotFoundException)
            {
                continue;
            }
            foreach (Type t in asm.GetExportedTypes())
            {
                if (!t.IsAbstract && typeof(IBackendRegistry).IsAssignableFrom(t) && t.GetConstructor(Type.EmptyTypes) is not null)
                {
                    result.Add((IBackendRegistry)Activator.CreateInstance(t)!);
                }
            }
        }
        return result;
    }
}
