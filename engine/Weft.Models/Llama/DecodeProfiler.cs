using System.Diagnostics;
using System.Runtime.InteropServices;
using Weft.Core;

namespace Weft.Models.Llama;

/// <summary>Where the time of one-token decoding goes: graph recording, allocation, input writes, compute, per op kind.</summary>
/// <param name="Tokens">Tokens decoded (one graph each).</param>
/// <param name="NodesPerToken">Nodes of the last token's graph.</param>
/// <param name="BuildMs">Milliseconds recording the one-token graph (<see cref="LlamaGraph.Build"/>); done once, as
/// <see cref="LlamaContext"/> reuses the graph for every token.</param>
/// <param name="AllocateMs">Milliseconds in <see cref="Scheduler.Allocate"/> for that graph (once).</param>
/// <param name="ComputeMs">Milliseconds per token in <see cref="Scheduler.Compute"/> (whole graph).</param>
/// <param name="IoMs">Milliseconds per token writing the inputs and reading the logits.</param>
/// <param name="PerOpMs">
/// Milliseconds per token by op kind, measured in a separate pass that computes the graph one node at a time on the
/// last backend (the CPU); their sum exceeds <paramref name="ComputeMs"/> by the per-node dispatch cost. Empty when the
/// backend refused single-node graphs.
/// </param>
public sealed record DecodeProfile(int Tokens, int NodesPerToken, double BuildMs, double AllocateMs, double ComputeMs, double IoMs,
    IReadOnlyDictionary<string, double> PerOpMs);

/// <summary>
/// Profiles token-by-token decoding outside a <see cref="LlamaContext"/> (same graph, cache and scheduler), so that
/// <c>weft bench --profile</c> can say whether time goes to the kernels or to per-token overhead.
/// </summary>
public static class DecodeProfiler
{
    /// <summary>Decodes <paramref name="tokens"/> one at a time into an empty cache and times each phase.</summary>
    /// <param name="model">The model.</param>
    /// <param name="p">Context settings (backend, threads, KV type; the context size must hold the tokens).</param>
    /// <param name="tokens">Token ids, each inside the vocabulary.</param>
    /// <exception cref="ArgumentException">No tokens, a token outside the vocabulary, or more tokens than the context holds.</exception>
    /// <exception cref="InvalidOperationException">A graph could not be allocated or computed.</exception>
    public static DecodeProfile Run(LlamaModel model, ContextParams p, IReadOnlyList<int> tokens)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokens);
        p.Validate();
        LlamaHParams hp = model.HParams;
        int size = p.ContextSize > 0 ? p.ContextSize : tokens.Count;
        if (tokens.Count == 0 || tokens.Count > size)
        {
            throw new ArgumentException($"Profile needs 1..{size} tokens, not {tokens.Count}.");
        }
        foreach (int t in tokens)
        {
            if ((uint)t >= (uint)hp.NVocab)
            {
                throw new ArgumentException($"Token id {t} is outside the vocabulary (0..{hp.NVocab - 1}).");
            }
        }
        IBackend[] backends = BackendSelector.Create(p.Backend, p.Threads, out _);
        using var scheduler = new Scheduler(backends);
        using var cache = new KvCache(hp, size, p.KvType, bytes => backends[0].Device.DefaultBufferType.Allocate(bytes));
        var logits = new float[hp.NVocab];
        long build = 0, alloc = 0, compute = 0, io = 0;
        var perOp = new Dictionary<string, double>();
        bool perOpOk = true;
        int nodes = 0;
        try
        {
            long t0 = Stopwatch.GetTimestamp();
            LlamaGraph.Batch b = LlamaGraph.Build(hp, model.Weights, cache, 1, allLogits: false);
            long t1 = Stopwatch.GetTimestamp();
            Check(scheduler.Allocate(b.Graph), "allocate");
            long t2 = Stopwatch.GetTimestamp();
            build = t1 - t0;
            alloc = t2 - t1;
            nodes = b.Graph.Nodes.Count;
            for (int i = 0; i < tokens.Count; i++)
            {
                long t3 = Stopwatch.GetTimestamp();
                int tok = tokens[i], pos = i, kvLen = i + 1;
                b.Tokens.Buffer!.Write(b.Tokens.Offset, MemoryMarshal.AsBytes(new ReadOnlySpan<int>(ref tok)));
                b.Positions.Buffer!.Write(b.Positions.Offset, MemoryMarshal.AsBytes(new ReadOnlySpan<int>(ref pos)));
                b.KvLength.Buffer!.Write(b.KvLength.Offset, MemoryMarshal.AsBytes(new ReadOnlySpan<int>(ref kvLen)));
                long t4 = Stopwatch.GetTimestamp();
                Check(scheduler.Compute(b.Graph), "compute");
                long t5 = Stopwatch.GetTimestamp();
                b.Logits.Buffer!.Read(b.Logits.Offset, MemoryMarshal.AsBytes(logits.AsSpan()));
                long t6 = Stopwatch.GetTimestamp();
                io += t4 - t3 + (t6 - t5);
                compute += t5 - t4;

                if (perOpOk && backends.Length == 1)
                {
                    // Second pass over the same (already allocated) nodes, one node per graph. The cache row this token
                    // wrote is written again with the same values, so the state is unchanged.
                    foreach (Tensor node in b.Graph.Nodes)
                    {
                        long s = Stopwatch.GetTimestamp();
                        Status st = backends[0].Compute(Graph.FromParts([node], [], [node]));
                        double nodeMs = Stopwatch.GetElapsedTime(s).TotalMilliseconds;
                        if (st != Status.Success)
                        {
                            perOpOk = false;
                            perOp.Clear();
                            break;
                        }
                        string key = node.Op.ToString() + (node.Op == OpKind.MatMul && node.Src[0] is { } w ? "(" + TypeTraits.Of(w.Type).Name + ")" : "");
                        perOp[key] = perOp.GetValueOrDefault(key) + nodeMs;
                    }
                }
            }
        }
        finally
        {
            foreach (IBackend be in backends)
            {
                be.Dispose();
            }
        }
        double ms = 1000.0 / Stopwatch.Frequency, f = ms / tokens.Count;
        return new DecodeProfile(tokens.Count, nodes, build * ms, alloc * ms, compute * f, io * f,
            perOp.ToDictionary(kv => kv.Key, kv => kv.Value / tokens.Count));
    }

    private static void Check(Status st, string what)
    {
        if (st != Status.Success)
        {
            throw new InvalidOperationException($"Profiling: {what} failed: {st}.");
        }
    }
}
