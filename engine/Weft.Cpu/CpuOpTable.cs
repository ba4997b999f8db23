using System.Reflection;
using Weft.Core;

namespace Weft.Cpu;

/// <summary>
/// The CPU op implementations by <see cref="OpKind"/>. <see cref="Default"/> holds every public <see cref="ICpuOp"/>
/// class of the Weft.Cpu assembly (found once by reflection); a custom table can add or replace implementations.
/// When several implementations of one op exist, the first (in the order given) that supports a node wins.
/// </summary>
public sealed class CpuOpTable
{
    private static readonly Lazy<CpuOpTable> s_default = new(() => new CpuOpTable(Discover(typeof(CpuOpTable).Assembly)));
    private readonly ICpuOp[][] _byKind;

    /// <summary>Every public op implementation of the Weft.Cpu assembly.</summary>
    public static CpuOpTable Default => s_default.Value;

    /// <summary>Creates a table of <paramref name="ops"/>.</summary>
    /// <exception cref="ArgumentException">An op reports a kind outside the ops of <see cref="OpKind"/>.</exception>
    public CpuOpTable(IEnumerable<ICpuOp> ops)
    {
        ArgumentNullException.ThrowIfNull(ops);
        var lists = new List<ICpuOp>[(int)OpKind.Count];
        foreach (ICpuOp op in ops)
        {
            if (op.Kind <= OpKind.None || op.Kind >= OpKind.Count)
            {
                throw new ArgumentException($"CPU op {op.GetType().FullName} reports kind {op.Kind}, which is not an op.", nameof(ops));
            }
            (lists[(int)op.Kind] ??= new List<ICpuOp>()).Add(op);
        }
        _byKind = new ICpuOp[lists.Length][];
        for (int i = 0; i < lists.Length; i++)
        {
            _byKind[i] = lists[i]?.ToArray() ?? [];
        }
    }

    /// <summary>A new table with <paramref name="ops"/> tried before this table's implementations.</summary>
    public CpuOpTable With(params ICpuOp[] ops)
    {
        var all = new List<ICpuOp>(ops);
        foreach (ICpuOp[] list in _byKind)
        {
            all.AddRange(list);
        }
        return new CpuOpTable(all);
    }

    /// <summary>The implementations of <paramref name="kind"/> (empty when none).</summary>
    public IReadOnlyList<ICpuOp> Implementations(OpKind kind) =>
        kind > OpKind.None && kind < OpKind.Count ? _byKind[(int)kind] : [];

    /// <summary>The first implementation that supports <paramref name="node"/>, or null. Never throws.</summary>
    public ICpuOp? Find(Tensor node)
    {
        if (node is null || node.Op <= OpKind.None || node.Op >= OpKind.Count)
        {
            return null;
        }
        ICpuOp[] list = _byKind[(int)node.Op];
        for (int i = 0; i < list.Length; i++)
        {
            bool ok;
            try
            {
                ok = list[i].Supports(node);
            }
            catch (Exception)
            {
                // Supports must not throw; a buggy one counts as "not supported" rather than crashing placement.
                ok = false;
            }
            if (ok)
            {
                return list[i];
            }
        }
        return null;
    }

    /// <summary>True when an implementation supports <paramref name="node"/>.</summary>
    public bool Supports(Tensor node) => Find(node) is not null;

    private static List<ICpuOp> Discover(Assembly assembly)
    {
        var ops = new List<ICpuOp>();
        Type[] types = assembly.GetExportedTypes();
        Array.Sort(types, (a, b) => string.CompareOrdinal(a.FullName, b.FullName));
        foreach (Type t in types)
        {
            if (t.IsClass && !t.IsAbstract && !t.ContainsGenericParameters && typeof(ICpuOp).IsAssignableFrom(t) && t.GetConstructor(Type.EmptyTypes) is not null)
            {
                ops.Add((ICpuOp)Activator.CreateInstance(t)!);
            }
        }
        return ops;
    }
}
