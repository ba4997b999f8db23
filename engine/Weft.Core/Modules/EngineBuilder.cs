using System.Diagnostics;

namespace Weft.Core;

/// <summary>
/// Collects modules and what they register, then runs the module lifecycle (<see cref="Build"/>): fluent
/// registration in the Bevy App style.
/// </summary>
/// <example><code>
/// Engine engine = new EngineBuilder()
///     .AddModules(new DefaultModules().Disable&lt;VulkanModule&gt;())
///     .AddModule(b =&gt; b.AddService(new ServerOptions { Port = 8188 }))
///     .Build();
/// IBackendRegistry cpu = engine.Backends.Find("CPU")!;
/// </code></example>
public sealed class EngineBuilder
{
    private readonly List<IModule?> _modules = new();
    private readonly HashSet<string> _uniqueNames = new(StringComparer.Ordinal);
    private readonly Dictionary<Type, object> _services = new();
    private readonly Dictionary<Type, object> _registries = new();
    private bool _built;

    /// <summary>Backend families registered with <see cref="AddBackend"/>.</summary>
    public BackendRegistry Backends { get; } = new();

    /// <summary>How long <see cref="Build"/> waits for every module to be <see cref="IModule.IsReady"/>.</summary>
    public TimeSpan ReadyTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The modules added so far, in order (a module's nested modules come right after it).</summary>
    public IReadOnlyList<IModule> Modules
    {
        get
        {
            var list = new List<IModule>(_modules.Count);
            foreach (IModule? m in _modules)
            {
                if (m is not null)
                {
                    list.Add(m);
                }
            }
            return list;
        }
    }

    /// <summary>True when a module of this name was added.</summary>
    public bool HasModule(string name)
    {
        foreach (IModule? m in _modules)
        {
            if (m is not null && m.Name == name)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>True when a module of type <typeparamref name="T"/> was added.</summary>
    public bool HasModule<T>() where T : IModule
    {
        foreach (IModule? m in _modules)
        {
            if (m is T)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Adds <paramref name="module"/> and runs its <see cref="IModule.Build"/> now; its slot is reserved first, so modules it adds come after it.</summary>
    /// <exception cref="DuplicateModuleException">A unique module of the same name was already added.</exception>
    /// <exception cref="InvalidOperationException">The engine was already built.</exception>
    public EngineBuilder AddModule(IModule module)
    {
        ArgumentNullException.ThrowIfNull(module);
        ThrowIfBuilt();
        string name = module.Name;
        if (module.IsUnique && !_uniqueNames.Add(name))
        {
            throw new DuplicateModuleException(name);
        }
        int slot = _modules.Count;
        _modules.Add(null);
        try
        {
            module.Build(this);
        }
        catch
        {
            _modules.RemoveAt(slot);
            _uniqueNames.Remove(name);
            throw;
        }
        _modules[slot] = module;
        return this;
    }

    /// <summary>Adds a delegate as a module.</summary>
    public EngineBuilder AddModule(Action<EngineBuilder> build) => AddModule(new ActionModule(build));

    /// <summary>Adds a module created with its parameterless constructor.</summary>
    public EngineBuilder AddModule<T>() where T : IModule, new() => AddModule(new T());

    /// <summary>Adds the enabled modules of <paramref name="group"/> in the group's order.</summary>
    public EngineBuilder AddModules(ModuleGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        foreach (IModule m in group.EnabledModules())
        {
            AddModule(m);
        }
        return this;
    }

    /// <summary>Adds a backend family (see <see cref="BackendRegistry.Add"/> for priority and <c>WEFT_DISABLE_*</c>).</summary>
    public EngineBuilder AddBackend(IBackendRegistry registry)
    {
        ThrowIfBuilt();
        Backends.Add(registry);
        return this;
    }

    /// <summary>Registers <paramref name="service"/> as the service of type <typeparamref name="T"/>.</summary>
    /// <exception cref="InvalidOperationException">A service of that type was already registered.</exception>
    public EngineBuilder AddService<T>(T service) where T : class
    {
        ArgumentNullException.ThrowIfNull(service);
        ThrowIfBuilt();
        if (!_services.TryAdd(typeof(T), service))
        {
            throw new InvalidOperationException($"A service of type {typeof(T).FullName} is already registered; use ReplaceService to override it.");
        }
        return this;
    }

    /// <summary>Registers or replaces the service of type <typeparamref name="T"/>.</summary>
    public EngineBuilder ReplaceService<T>(T service) where T : class
    {
        ArgumentNullException.ThrowIfNull(service);
        ThrowIfBuilt();
        _services[typeof(T)] = service;
        return this;
    }

    /// <summary>The service of type <typeparamref name="T"/>.</summary>
    /// <exception cref="InvalidOperationException">None was registered.</exception>
    public T GetService<T>() where T : class =>
        TryGetService<T>() ?? throw new InvalidOperationException($"No service of type {typeof(T).FullName} is registered; add the module that provides it.");

    /// <summary>The service of type <typeparamref name="T"/>, or null.</summary>
    public T? TryGetService<T>() where T : class => _services.TryGetValue(typeof(T), out object? s) ? (T)s : null;

    /// <summary>The registry of named <typeparamref name="T"/> items (created on first use).</summary>
    public NamedRegistry<T> Registry<T>() where T : class
    {
        if (!_registries.TryGetValue(typeof(T), out object? r))
        {
            r = new NamedRegistry<T>();
            _registries.Add(typeof(T), r);
        }
        return (NamedRegistry<T>)r;
    }

    /// <summary>Registers <paramref name="item"/> under <paramref name="name"/> in <see cref="Registry{T}"/>.</summary>
    public EngineBuilder Register<T>(string name, T item) where T : class
    {
        ThrowIfBuilt();
        Registry<T>().Add(name, item);
        return this;
    }

    /// <summary>
    /// Finishes set-up: waits until every module <see cref="IModule.IsReady"/>, then calls every
    /// <see cref="IModule.Finish"/>, then every <see cref="IModule.Cleanup"/>, in module order.
    /// </summary>
    /// <exception cref="TimeoutException">A module was not ready within <see cref="ReadyTimeout"/>.</exception>
    /// <exception cref="InvalidOperationException">Called twice.</exception>
    public Engine Build()
    {
        ThrowIfBuilt();
        _built = true;
        var engine = new Engine(this);
        IReadOnlyList<IModule> modules = Modules;
        var sw = Stopwatch.StartNew();
        var spin = new SpinWait();
        while (true)
        {
            IModule? notReady = null;
            foreach (IModule m in modules)
            {
                if (!m.IsReady(engine))
                {
                    notReady = m;
                    break;
                }
            }
            if (notReady is null)
            {
                break;
            }
            if (sw.Elapsed > ReadyTimeout)
            {
                throw new TimeoutException($"Module '{notReady.Name}' was not ready after {ReadyTimeout.TotalSeconds:0.#} s; check its set-up (or raise EngineBuilder.ReadyTimeout).");
            }
            spin.SpinOnce(sleep1Threshold: 20);
        }
        foreach (IModule m in modules)
        {
            m.Finish(engine);
        }
        foreach (IModule m in modules)
        {
            m.Cleanup(engine);
        }
        return engine;
    }

    private void ThrowIfBuilt()
    {
        if (_built)
        {
            throw new InvalidOperationException("The engine is already built; register modules, backends and services before EngineBuilder.Build().");
        }
    }
}
