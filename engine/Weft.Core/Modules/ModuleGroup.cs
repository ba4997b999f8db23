namespace Weft.Core;

/// <summary>
/// An ordered, editable set of modules added together (Bevy's PluginGroupBuilder): a host takes a default group and
/// replaces (<see cref="Set{T}"/>), disables (<see cref="Disable{T}"/>) or inserts (<see cref="AddBefore{TTarget}"/>)
/// modules before adding it with <see cref="EngineBuilder.AddModules"/>.
/// </summary>
/// <example><code>
/// var group = new ModuleGroup().Add(new CpuModule()).Add(new VulkanModule()).Add(new LlamaModule());
/// group.Disable&lt;VulkanModule&gt;().AddBefore&lt;LlamaModule&gt;(new MyTokenizerModule());
/// new EngineBuilder().AddModules(group).Build();
/// </code></example>
public class ModuleGroup
{
    private readonly List<(IModule Module, bool Enabled)> _entries = new();

    /// <summary>The modules with their enabled state, in order.</summary>
    public IReadOnlyList<(IModule Module, bool Enabled)> Entries => _entries;

    /// <summary>Appends <paramref name="module"/>; a module of the same type already in the group is replaced in place.</summary>
    public ModuleGroup Add(IModule module)
    {
        ArgumentNullException.ThrowIfNull(module);
        int i = IndexOf(module.GetType());
        if (i >= 0)
        {
            _entries[i] = (module, _entries[i].Enabled);
        }
        else
        {
            _entries.Add((module, true));
        }
        return this;
    }

    /// <summary>Replaces the module of type <typeparamref name="T"/> with <paramref name="module"/> (same position).</summary>
    /// <exception cref="InvalidOperationException">The group has no module of that type.</exception>
    public ModuleGroup Set<T>(T module) where T : IModule
    {
        ArgumentNullException.ThrowIfNull(module);
        int i = Require(typeof(T));
        _entries[i] = (module, _entries[i].Enabled);
        return this;
    }

    /// <summary>Keeps the module of type <typeparamref name="T"/> in the group but does not add it.</summary>
    /// <exception cref="InvalidOperationException">The group has no module of that type.</exception>
    public ModuleGroup Disable<T>() where T : IModule
    {
        int i = Require(typeof(T));
        _entries[i] = (_entries[i].Module, false);
        return this;
    }

    /// <summary>Re-enables the module of type <typeparamref name="T"/>.</summary>
    /// <exception cref="InvalidOperationException">The group has no module of that type.</exception>
    public ModuleGroup Enable<T>() where T : IModule
    {
        int i = Require(typeof(T));
        _entries[i] = (_entries[i].Module, true);
        return this;
    }

    /// <summary>Inserts <paramref name="module"/> right before the module of type <typeparamref name="TTarget"/>.</summary>
    /// <exception cref="InvalidOperationException">The group has no module of that type, or already has one of the new module's type.</exception>
    public ModuleGroup AddBefore<TTarget>(IModule module) where TTarget : IModule => Insert(typeof(TTarget), module, 0);

    /// <summary>Inserts <paramref name="module"/> right after the module of type <typeparamref name="TTarget"/>.</summary>
    /// <exception cref="InvalidOperationException">The group has no module of that type, or already has one of the new module's type.</exception>
    public ModuleGroup AddAfter<TTarget>(IModule module) where TTarget : IModule => Insert(typeof(TTarget), module, 1);

    /// <summary>The enabled modules, in order.</summary>
    public IEnumerable<IModule> EnabledModules()
    {
        foreach ((IModule m, bool enabled) in _entries)
        {
            if (enabled)
            {
                yield return m;
            }
        }
    }

    private ModuleGroup Insert(Type target, IModule module, int after)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (IndexOf(module.GetType()) >= 0)
        {
            throw new InvalidOperationException($"Module group already contains a {module.GetType().FullName}; use Set<T> to replace it.");
        }
        _entries.Insert(Require(target) + after, (module, true));
        return this;
    }

    private int IndexOf(Type t)
    {
        for (int i = 0; i < _entries.Count; i++)
        {
            if (_entries[i].Module.GetType() == t)
            {
                return i;
            }
        }
        return -1;
    }

    private int Require(Type t)
    {
        int i = IndexOf(t);
        return i >= 0 ? i : throw new InvalidOperationException($"Module group has no {t.FullName} (it has: {string.Join(", ", _entries.Select(e => e.Module.GetType().Name))}).");
    }
}
