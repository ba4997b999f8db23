namespace Weft.Core;

/// <summary>
/// What the modules registered, after the lifecycle ran: backends, services and named registries. Built by
/// <see cref="EngineBuilder.Build"/>.
/// </summary>
public sealed class Engine
{
    private readonly EngineBuilder _builder;

    internal Engine(EngineBuilder builder) => _builder = builder;

    /// <summary>Backend families in priority order (GPU first, CPU last).</summary>
    public BackendRegistry Backends => _builder.Backends;

    /// <summary>The modules, in the order they were added (nested ones after their parent).</summary>
    public IReadOnlyList<IModule> Modules => _builder.Modules;

    /// <summary>The service of type <typeparamref name="T"/>.</summary>
    /// <exception cref="InvalidOperationException">None was registered.</exception>
    public T GetService<T>() where T : class => _builder.GetService<T>();

    /// <summary>The service of type <typeparamref name="T"/>, or null.</summary>
    public T? TryGetService<T>() where T : class => _builder.TryGetService<T>();

    /// <summary>The registry of named <typeparamref name="T"/> items (created empty when none was registered).</summary>
    public NamedRegistry<T> Registry<T>() where T : class => _builder.Registry<T>();
}
