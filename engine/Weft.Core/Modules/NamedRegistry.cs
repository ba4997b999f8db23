namespace Weft.Core;

/// <summary>
/// Items of one kind registered by name (model architectures, tokenizers, flow nodes): later issues add kinds without
/// changing the core, e.g. <c>b.Registry&lt;IArchitecture&gt;().Add("llama", new LlamaArchitecture())</c>.
/// Names compare case-insensitively; order of registration is kept.
/// </summary>
/// <typeparam name="T">The kind of item.</typeparam>
public sealed class NamedRegistry<T> where T : class
{
    private readonly Dictionary<string, T> _byName = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<KeyValuePair<string, T>> _ordered = new();

    /// <summary>Names and items in registration order.</summary>
    public IReadOnlyList<KeyValuePair<string, T>> Items => _ordered;

    /// <summary>Number of items.</summary>
    public int Count => _ordered.Count;

    /// <summary>Registers <paramref name="item"/> as <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">The name is empty or already registered.</exception>
    public NamedRegistry<T> Add(string name, T item)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(item);
        if (!_byName.TryAdd(name, item))
        {
            throw new ArgumentException($"A {typeof(T).Name} named '{name}' is already registered; pick another name or remove the module that registers it twice.", nameof(name));
        }
        _ordered.Add(new KeyValuePair<string, T>(name, item));
        return this;
    }

    /// <summary>Finds an item by name.</summary>
    public bool TryGet(string name, out T item)
    {
        bool found = _byName.TryGetValue(name, out T? v);
        item = v!;
        return found;
    }

    /// <summary>The item called <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such item; the message lists the registered names.</exception>
    public T Get(string name) => _byName.TryGetValue(name, out T? v)
        ? v
        : throw new KeyNotFoundException($"No {typeof(T).Name} named '{name}' is registered (known: {string.Join(", ", _byName.Keys)}).");
}
