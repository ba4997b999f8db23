using System.Collections.Concurrent;

namespace Weft.Flows;

/// <summary>
/// Node results keyed by node type, parameters and input values (SHA-256 of their canonical JSON). An executor that
/// keeps one cache skips unchanged nodes on a re-run and reports them as <see cref="FlowEventKind.Cached"/>.
/// </summary>
public sealed class FlowCache
{
    private readonly ConcurrentDictionary<string, NodeOutputs> _entries = new(StringComparer.Ordinal);

    /// <summary>Entries held.</summary>
    public int Count => _entries.Count;

    /// <summary>Looks a result up.</summary>
    public bool TryGet(string key, out NodeOutputs outputs)
    {
        bool ok = _entries.TryGetValue(key, out NodeOutputs? o);
        outputs = o!;
        return ok;
    }

    /// <summary>Stores a result.</summary>
    public void Set(string key, NodeOutputs outputs) => _entries[key] = outputs;

    /// <summary>Drops every entry.</summary>
    public void Clear() => _entries.Clear();
}
