namespace Weft.Core;

/// <summary>
/// A unit of registration (Bevy's Plugin): a backend, a model architecture, a tokenizer family, flow nodes or a host
/// extension adds what it provides to the <see cref="EngineBuilder"/> in <see cref="Build"/>.
/// </summary>
/// <remarks>
/// Lifecycle, run by <see cref="EngineBuilder.Build"/>: every module's <see cref="Build"/> (when added) → wait until
/// every module <see cref="IsReady"/> → <see cref="Finish"/> in order → <see cref="Cleanup"/> in order.
/// <example><code>
/// sealed class CpuModule : IModule
/// {
///     public void Build(EngineBuilder b) =&gt; b.AddBackend(new CpuBackendRegistry());
/// }
/// Engine engine = new EngineBuilder().AddModule(new CpuModule()).AddModule(b =&gt; b.AddService(new MyOptions())).Build();
/// </code></example>
/// </remarks>
public interface IModule
{
    /// <summary>Registers what the module provides. May add other modules (they are placed after this one).</summary>
    void Build(EngineBuilder builder);

    /// <summary>True once asynchronous set-up (device enumeration, downloads) is done; polled before <see cref="Finish"/>.</summary>
    bool IsReady(Engine engine) => true;

    /// <summary>Runs after every module is built and ready: resolve what other modules registered.</summary>
    void Finish(Engine engine)
    {
    }

    /// <summary>Runs after every <see cref="Finish"/>: release set-up-only resources.</summary>
    void Cleanup(Engine engine)
    {
    }

    /// <summary>Name for errors and duplicate detection (the type's full name by default).</summary>
    string Name => GetType().FullName!;

    /// <summary>True when adding a second module of the same <see cref="Name"/> is an error.</summary>
    bool IsUnique => true;
}
