using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Weft.Core;

namespace Weft.Cpu;

/// <summary>
/// Optional per-op timing of <see cref="CpuBackend"/> graphs, switched on with <c>WEFT_CPU_PROFILE=1</c>: thread 0
/// times each node from its start to the barrier after it (so a node's figure includes waiting for the slowest
/// thread), keyed by op kind, and for matmuls by weight type and whether the batch has one activation row or more.
/// The totals are written to standard error when the process exits. Off, it costs one static read per graph.
/// </summary>
public static class CpuProfile
{
    private static readonly ConcurrentDictionary<string, Entry> s_entries = new();

    /// <summary>True when <c>WEFT_CPU_PROFILE=1</c>.</summary>
    public static bool Enabled { get; } = Environment.GetEnvironmentVariable("WEFT_CPU_PROFILE") == "1";

    static CpuProfile()
    {
        if (Enabled)
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) => Console.Error.Write(Report());
        }
    }

    /// <summary>Adds <paramref name="ticks"/> (<see cref="Stopwatch"/> ticks) spent on <paramref name="node"/>.</summary>
    public static void Add(Tensor node, long ticks)
    {
        Entry e = s_entries.GetOrAdd(Key(node), static _ => new Entry());
        Interlocked.Add(ref e.Ticks, ticks);
        Interlocked.Increment(ref e.Count);
    }

    /// <summary>The totals so far, one line per key, largest first.</summary>
    public static string Report()
    {
        var sb = new StringBuilder();
        double total = s_entries.Values.Sum(e => (double)e.Ticks);
        sb.AppendLine($"CPU op profile (WEFT_CPU_PROFILE=1), total {total * 1000 / Stopwatch.Frequency:F1} ms:");
        foreach (var kv in s_entries.OrderByDescending(kv => kv.Value.Ticks))
        {
            double ms = kv.Value.Ticks * 1000.0 / Stopwatch.Frequency;
            sb.AppendLine($"  {kv.Key,-28} {ms,10:F1} ms {100 * kv.Value.Ticks / Math.Max(1, total),6:F1} % {kv.Value.Count,9} nodes");
        }
        return sb.ToString();
    }

    private static string Key(Tensor n)
    {
        if (n.Op == OpKind.MatMul && n.Src[0] is Tensor w && n.Src[1] is Tensor x)
        {
            return $"MatMul {w.Traits.Name} {(x.Ne[1] == 1 ? "m=1" : "m>1")}{(w.Ne[2] * w.Ne[3] > 1 ? " batched" : "")}";
        }
        return n.Op.ToString();
    }

    private sealed class Entry
    {
        public long Ticks;
        public long Count;
    }
}
