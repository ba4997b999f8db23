using Weft.Core;

namespace Weft.Cpu;

/// <summary>Registers the CPU backend family (<see cref="CpuBackendRegistry"/>). Add it after GPU backend modules: the CPU is the fallback.</summary>
/// <example><code>
/// Engine engine = new EngineBuilder().AddModule&lt;CpuModule&gt;().Build();
/// IDevice cpu = engine.Backends.Devices[^1];
/// </code></example>
public sealed class CpuModule : IModule
{
    /// <inheritdoc/>
    public void Build(EngineBuilder builder) => builder.AddBackend(new CpuBackendRegistry());
}
