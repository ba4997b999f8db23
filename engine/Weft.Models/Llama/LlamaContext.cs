using System.Runtime.InteropServices;
using Weft.Core;
using Weft.Cpu;

namespace Weft.Models.Llama;

/// <summary>
/// An inference context: a KV cache and the compute state to evaluate tokens with a <see cref="LlamaModel"/>.
/// Tokens are appended at <see cref="Position"/>; prompts are split into batches of <see cref="ContextParams.BatchSize"/>
/// that go through the matrix-matrix kernels. With <see cref="ContextParams.MaxSequences"/> above 1 the context holds
/// several sequences that <see cref="Decode(LlamaBatch)"/> evaluates together (see LlamaContext.Sequences.cs); the
/// single-sequence members then act on sequence 0. Not thread-safe: one evaluation at a time.
/// </summary>
public sealed partial class LlamaContext : IDisposable
{
    private readonly LlamaModel _model;
    private readonly KvCache _cache;
    private readonly Scheduler _scheduler;
    private readonly IBackend[] _backends;
    private readonly float[] _lastLogits;
    private readonly List<int> _history = new();
    private readonly int[] _positions;
    private readonly int[] _kvLen = new int[1];
    private readonly LlamaWeights _weights;
    private readonly Dictionary<(int Tokens, int Outputs), LlamaGraph.Batch> _graphs = new();
    private readonly KvCells? _cells;
    private Graph? _allocated;

    internal LlamaContext(LlamaModel model, ContextParams p)
    {
        p.Validate();
        _model = model;
        Params = p;
        int size = p.ContextSize > 0 ? p.ContextSize : Math.Min(model.HParams.NCtxTrain, 4096);
        _backends = BackendSelector.Create(p.Backend, p.Threads, out string note);
        BackendNote = note;
        _scheduler = new Scheduler(_backends);
        _weights = model.WeightsFor(_backends[0]);
        _cache = new KvCache(model.HParams, size, p.KvType, bytes => _backends[0].Device.DefaultBufferType.Allocate(bytes), _backends[0].Device.DefaultBufferType.ContiguousLimit);
        _lastLogits = new float[model.HParams.NVocab];
        _positions = new int[p.BatchSize];
        if (p.MaxSequences > 1)
        {
            _cells = new KvCells(size);
        }
    }

    /// <summary>The model.</summary>
    public LlamaModel Model => _model;
    /// <summary>Settings.</summary>
    public ContextParams Params { get; }
    /// <summary>Context length in tokens.</summary>
    public int Size => _cache.Size;
    /// <summary>Tokens in the cache (the position of the next token); in a multi-sequence context, those of sequence 0.</summary>
    public int Position => _cells is null ? _cache.Used : _cells.SeqPosMax(0) + 1;
    /// <summary>The tokens evaluated so far, in order; in a multi-sequence context, those of sequence 0.</summary>
    public IReadOnlyList<int> Tokens => _cells is null ? _history : _cells.SeqTokens(0);
    /// <summary>Logits after the last evaluated token (after a <see cref="Decode(LlamaBatch)"/>, of its last output row).</summary>
    public ReadOnlySpan<float> Logits => _lastLogits;
    /// <summary>Backends in use, in priority order.</summary>
    public IReadOnlyList<IBackend> Backends => _backends;
    /// <summary>Why the backend choice came out as it did (e.g. "no Vulkan device: using the CPU").</summary>
    public string BackendNote { get; }
    /// <summary>The KV cache.</summary>
    public KvCache Cache => _cache;

    /// <summary>Evaluates <paramref name="tokens"/> after the cached ones; returns the logits of the last one.</summary>
    /// <exception cref="ContextFullException">The tokens do not fit in the context.</exception>
    /// <exception cref="ArgumentException">A token id is outside the vocabulary, or no tokens were given.</exception>
    public ReadOnlySpan<float> Decode(ReadOnlySpan<int> tokens) => Run(tokens, null);

    /// <summary>Evaluates <paramref name="tokens"/> and returns the logits of every one ([n_tokens × n_vocab], row per token).</summary>
    /// <exception cref="ContextFullException">The tokens do not fit in the context.</exception>
    /// <exception cref="ArgumentException">A token id is outside the vocabulary, or no tokens were given.</exception>
    public float[] DecodeAll(ReadOnlySpan<int> tokens)
    {
        var all = new float[(long)tokens.Length * _model.HParams.NVocab];
        Run(tokens, all);
        return all;
    }

    /// <summary>Forgets every cached token (of every sequence).</summary>
    public void Clear()
    {
        _cells?.Clear();
        _cache.Used = 0;
        _history.Clear();
    }

    /// <summary>Drops cached tokens from position <paramref name="keep"/> on (the next token is written at <paramref name="keep"/>);
    /// in a multi-sequence context, those of sequence 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="keep"/> is negative or beyond <see cref="Position"/>.</exception>
    public void Truncate(int keep)
    {
        int used = Position;
        if (keep < 0 || keep > used)
        {
            throw new ArgumentOutOfRangeException(nameof(keep), $"Cannot keep {keep} of {used} cached tokens.");
        }
        if (_cells is not null)
        {
            SeqRemove(0, keep, -1);
            return;
        }
        _cache.Used = keep;
        _history.RemoveRange(keep, _history.Count - keep);
    }

    private ReadOnlySpan<float> Run(ReadOnlySpan<int> tokens, float[]? all)
    {
        if (tokens.Length == 0)
        {
            throw new ArgumentException("Nothing to evaluate: the token list is empty.");
        }
        if (_cells is not null)
        {
            return RunSequenceZero(tokens, all);
        }
        int nVocab = _model.HParams.NVocab;
        foreach (int t in tokens)
        {
            if ((uint)t >= (uint)nVocab)
            {
                throw new ArgumentException($"Token id {t} is outside the vocabulary (0..{nVocab - 1}).");
            }
        }
        if (_cache.Used + tokens.Length > _cache.Size)
        {
            throw new ContextFullException(_cache.Used + tokens.Length, _cache.Size);
        }
        int done = 0;
        while (done < tokens.Length)
        {
            int n = Math.Min(Params.BatchSize, tokens.Length - done);
            ReadOnlySpan<int> batch = tokens.Slice(done, n);
            int nPast = _cache.Used;
            LlamaGraph.Batch b = GraphFor(n, all is not null ? n : 1, masked: false);
            WriteInts(b.Tokens, batch);
            Span<int> pos = _positions.AsSpan(0, n);
            for (int i = 0; i < n; i++)
            {
                pos[i] = nPast + i;
            }
            WriteInts(b.Positions, pos);
            _kvLen[0] = nPast + n;
            WriteInts(b.KvLength, _kvLen);
            Status st = _scheduler.Compute(b.Graph);
            if (st != Status.Success)
            {
                throw new InvalidOperationException($"Evaluating {n} tokens at position {nPast} failed: {st}.");
            }
            if (all is not null)
            {
                ReadFloats(b.Logits, all.AsSpan(done * nVocab, n * nVocab));
                all.AsSpan((done + n - 1) * nVocab, nVocab).CopyTo(_lastLogits);
            }
            else
            {
                ReadFloats(b.Logits, _lastLogits);
            }
            _cache.Used += n;
            foreach (int t in batch)
            {
                _history.Add(t);
            }
            done += n;
        }
        return _lastLogits;
    }

    // Graphs do not depend on the cache fill, so one per (batch size, outputs) is built, placed and reused; the
    // scheduler re-places only when a different graph ran in between. A context builds either unmasked graphs (one
    // sequence: outputs are 1, the last token, or n, every token) or masked ones (several sequences), never both.
    private LlamaGraph.Batch GraphFor(int n, int outputs, bool masked)
    {
        var key = (n, outputs);
        if (!_graphs.TryGetValue(key, out LlamaGraph.Batch? b))
        {
            if (_graphs.Count >= 8)
            {
                _graphs.Clear();
            }
            b = masked
                ? LlamaGraph.BuildMasked(_model.HParams, _weights, _cache, n, outputs)
                : LlamaGraph.Build(_model.HParams, _weights, _cache, n, allLogits: outputs == n);
            _graphs[key] = b;
        }
        if (!ReferenceEquals(_allocated, b.Graph))
        {
            Status st = _scheduler.Allocate(b.Graph);
            if (st != Status.Success)
            {
                throw new InvalidOperationException($"Could not allocate the compute graph for {n} tokens: {st}.");
            }
            _allocated = b.Graph;
        }
        return b;
    }

    private static void WriteInts(Tensor t, ReadOnlySpan<int> values) =>
        t.Buffer!.Write(t.Offset, MemoryMarshal.AsBytes(values));

    private static void ReadFloats(Tensor t, Span<float> dst) =>
        t.Buffer!.Read(t.Offset, MemoryMarshal.AsBytes(dst));

    /// <inheritdoc/>
    public void Dispose()
    {
        _scheduler.Dispose();
        _cache.Dispose();
        foreach (IBackend b in _backends)
        {
            b.Dispose();
        }
    }
}
