using System.Runtime.InteropServices;
using Weft.Core;
using Weft.Core.Gguf;
using Weft.Models.Llama;

namespace Weft.Models.Embeddings;

/// <summary>
/// Runs one architecture's graph over a token sequence and returns every token's final state. One recorded graph per
/// sequence length is kept and reused; the scheduler re-places only when a different one ran in between.
/// </summary>
internal abstract class SequenceEncoder : IDisposable
{
    /// <summary>A recorded graph and its inputs; <c>KvLength</c> is set only for decoders.</summary>
    protected sealed record Recorded(Graph Graph, Tensor Tokens, Tensor Positions, Tensor? KvLength, Tensor Hidden);

    private readonly Dictionary<int, Recorded> _graphs = new();
    private Graph? _allocated;

    protected SequenceEncoder(string path, GgufFile gguf, Scheduler scheduler)
    {
        Path = path;
        Gguf = gguf;
        Scheduler = scheduler;
    }

    public string Path { get; }
    public GgufFile Gguf { get; }
    protected Scheduler Scheduler { get; }
    public abstract string Architecture { get; }
    public abstract int NEmbd { get; }
    public abstract int NCtx { get; }
    public abstract int NVocab { get; }
    /// <summary>Pooling from the file, or the architecture's usual one.</summary>
    public abstract PoolingType DefaultPooling { get; }

    protected abstract Recorded Record(int nTokens);

    /// <summary>Final token states, token after token ([n_tokens × n_embd]); the caller has checked the ids and length.</summary>
    public float[] Hidden(ReadOnlySpan<int> tokens)
    {
        int n = tokens.Length;
        int[] pos = new int[n];
        for (int i = 0; i < n; i++)
        {
            pos[i] = i;
        }
        Recorded r = GraphFor(n);
        r.Tokens.Buffer!.Write(r.Tokens.Offset, MemoryMarshal.AsBytes(tokens));
        r.Positions.Buffer!.Write(r.Positions.Offset, MemoryMarshal.AsBytes(pos.AsSpan()));
        if (r.KvLength is not null)
        {
            int[] kv = [n];
            r.KvLength.Buffer!.Write(r.KvLength.Offset, MemoryMarshal.AsBytes(kv.AsSpan()));
        }
        Status st = Scheduler.Compute(r.Graph);
        if (st != Status.Success)
        {
            throw new InvalidOperationException($"Evaluating {n} tokens with {System.IO.Path.GetFileName(Path)} failed: {st}.");
        }
        var hidden = new float[(long)n * NEmbd];
        r.Hidden.Buffer!.Read(r.Hidden.Offset, MemoryMarshal.AsBytes(hidden.AsSpan()));
        return hidden;
    }

    private Recorded GraphFor(int n)
    {
        if (!_graphs.TryGetValue(n, out Recorded? r))
        {
            if (_graphs.Count >= 16)
            {
                _graphs.Clear();
            }
            r = Record(n);
            _graphs[n] = r;
        }
        if (!ReferenceEquals(_allocated, r.Graph))
        {
            Status st = Scheduler.Allocate(r.Graph);
            if (st != Status.Success)
            {
                throw new InvalidOperationException($"Could not allocate the {Architecture} graph for {n} tokens: {st}.");
            }
            _allocated = r.Graph;
        }
        return r;
    }

    /// <summary>Reads <c>{arch}.pooling_type</c>, or returns <paramref name="fallback"/> when the key is absent.</summary>
    protected static PoolingType ReadPooling(GgufFile gguf, string arch, PoolingType fallback)
    {
        if (!gguf.TryGetInt($"{arch}.pooling_type", out long p))
        {
            return fallback;
        }
        if (p is < 0 or > 3)
        {
            throw new ModelFormatException(gguf.FilePath, $"pooling type {p} is unknown (0 none, 1 mean, 2 cls, 3 last)");
        }
        return (PoolingType)p;
    }

    public virtual void Dispose() => Gguf.Dispose();
}

/// <summary>BERT-family encoder (<see cref="BertGraph"/>).</summary>
internal sealed class BertEncoder(string path, GgufFile gguf, Scheduler scheduler, BertHParams hp, BertWeights w) : SequenceEncoder(path, gguf, scheduler)
{
    public BertHParams HParams { get; } = hp;
    public override string Architecture => "bert";
    public override int NEmbd => HParams.NEmbd;
    public override int NCtx => HParams.NCtx;
    public override int NVocab => HParams.NVocab;
    public override PoolingType DefaultPooling => HParams.Pooling;

    protected override Recorded Record(int nTokens)
    {
        BertGraph.Batch b = BertGraph.Build(HParams, w, nTokens);
        return new Recorded(b.Graph, b.Tokens, b.Positions, null, b.Hidden);
    }
}

/// <summary>
/// Llama-family decoder used as an embedder: the causal graph of <see cref="LlamaGraph"/> stopped at the final norm,
/// over a private KV cache that every sequence overwrites from position 0.
/// </summary>
internal sealed class DecoderEncoder : SequenceEncoder
{
    private readonly LlamaHParams _hp;
    private readonly LlamaWeights _w;
    private readonly KvCache _cache;
    private readonly PoolingType _pooling;

    public DecoderEncoder(string path, GgufFile gguf, Scheduler scheduler, IBackend primary, LlamaHParams hp, LlamaWeights w)
        : base(path, gguf, scheduler)
    {
        _hp = hp;
        _w = w;
        _pooling = ReadPooling(gguf, hp.Architecture, PoolingType.Last);
        int size = Math.Min(hp.NCtxTrain, 4096);
        _cache = new KvCache(hp, size, new ContextParams().KvType, bytes => primary.Device.DefaultBufferType.Allocate(bytes));
    }

    public override string Architecture => _hp.Architecture;
    public override int NEmbd => _hp.NEmbd;
    public override int NCtx => _cache.Size;
    public override int NVocab => _hp.NVocab;
    public override PoolingType DefaultPooling => _pooling;

    protected override Recorded Record(int nTokens)
    {
        LlamaGraph.Batch b = LlamaGraph.Build(_hp, _w, _cache, nTokens, allLogits: true, hiddenStates: true);
        return new Recorded(b.Graph, b.Tokens, b.Positions, b.KvLength, b.Logits);
    }

    public override void Dispose()
    {
        _cache.Dispose();
        base.Dispose();
    }
}
