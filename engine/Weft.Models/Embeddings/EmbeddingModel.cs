using System.Runtime.InteropServices;
using Weft.Core;
using Weft.Core.Gguf;
using Weft.Models.Llama;
using Weft.Tokenizers;

namespace Weft.Models.Embeddings;

/// <summary>
/// A text embedding model from GGUF: BERT-family encoders (architecture <c>bert</c>: BERT, MiniLM, BGE…) and
/// Llama-family decoders (<c>llama</c>, <c>qwen2</c>: final-norm hidden states of the causal graph) run on the engine's
/// graph, then the token states are pooled (mean, [CLS] or last token) and L2-normalised.
/// Thread-safe: evaluations are serialised.
/// </summary>
/// <example>
/// <code>
/// using var model = EmbeddingModel.Load("bge-small-en-v1.5-f16.gguf");
/// float[] v = model.Embed("what is retrieval-augmented generation?");
/// </code>
/// </example>
public sealed class EmbeddingModel : IDisposable
{
    private readonly SequenceEncoder _encoder;
    private readonly IBackend[] _backends;
    private readonly Scheduler _scheduler;
    private readonly object _gate = new();
    private bool _disposed;

    private EmbeddingModel(string path, SequenceEncoder encoder, IBackend[] backends, Scheduler scheduler, string note, Tokenizer tokenizer, EmbeddingOptions o)
    {
        Path = path;
        _encoder = encoder;
        _backends = backends;
        _scheduler = scheduler;
        BackendNote = note;
        Tokenizer = tokenizer;
        Pooling = o.Pooling ?? encoder.DefaultPooling;
        if (Pooling == PoolingType.None)
        {
            Pooling = encoder is BertEncoder ? PoolingType.Mean : PoolingType.Last;
        }
        Normalize = o.Normalize;
        Truncate = o.Truncate;
    }

    /// <summary>The file the model was loaded from.</summary>
    public string Path { get; }
    /// <summary>The GGUF architecture (<c>bert</c>, <c>llama</c>, <c>qwen2</c>).</summary>
    public string Architecture => _encoder.Architecture;
    /// <summary>Stable identifier: architecture, file name, pooling and normalisation, e.g. <c>gguf-bert:bge-small.gguf:cls:l2</c>.</summary>
    public string Name => $"gguf-{Architecture}:{System.IO.Path.GetFileName(Path)}:{Pooling.ToString().ToLowerInvariant()}:{(Normalize ? "l2" : "raw")}";
    /// <summary>Length of the embeddings.</summary>
    public int Dimension => _encoder.NEmbd;
    /// <summary>Longest input in tokens, special tokens included.</summary>
    public int MaxTokens => _encoder.NCtx;
    /// <summary>Vocabulary size.</summary>
    public int VocabSize => _encoder.NVocab;
    /// <summary>Pooling in use.</summary>
    public PoolingType Pooling { get; }
    /// <summary>Whether embeddings are scaled to unit length.</summary>
    public bool Normalize { get; }
    /// <summary>Whether over-long texts are cut instead of refused.</summary>
    public bool Truncate { get; }
    /// <summary>BERT hyper-parameters, or null for a decoder model.</summary>
    public BertHParams? BertHParams => (_encoder as BertEncoder)?.HParams;
    /// <summary>The model's tokenizer (WordPiece for BERT, adding [CLS] and [SEP]; the decoder's own otherwise).</summary>
    public Tokenizer Tokenizer { get; }
    /// <summary>Why the backend choice came out as it did.</summary>
    public string BackendNote { get; }

    /// <summary>Loads a GGUF embedding model.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFormatException">Unsupported architecture, missing or mis-shaped tensors or keys.</exception>
    /// <exception cref="GgufFormatException">The GGUF file is malformed.</exception>
    public static EmbeddingModel Load(string path, EmbeddingOptions? options = null)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Embedding model file not found: {path}", path);
        }
        options ??= new EmbeddingOptions();
        if (options.Threads < 0)
        {
            throw new ArgumentException($"Thread count must be 0 (all cores) or positive, not {options.Threads}.", nameof(options));
        }
        GgufFile gguf = GgufFile.Open(path);
        IBackend[]? backends = null;
        Scheduler? scheduler = null;
        SequenceEncoder? encoder = null;
        try
        {
            string arch = gguf.TryGetString("general.architecture", out string? a) ? a : "";
            if (arch.Length == 0)
            {
                throw new ModelFormatException(path, "general.architecture is missing");
            }
            bool bert = arch == "bert";
            if (!bert && !LlamaHParams.SupportedArchitectures.Contains(arch))
            {
                throw new ModelFormatException(path, $"architecture '{arch}' is not a supported embedding model (supported: bert, {string.Join(", ", LlamaHParams.SupportedArchitectures)})");
            }
            Tokenizer tok;
            int nVocab;
            BertHParams? bhp = null;
            BertWeights? bw = null;
            LlamaHParams? lhp = null;
            LlamaWeights? lw = null;
            if (bert)
            {
                bhp = BertHParams.FromGguf(gguf);
                bw = BertWeights.FromGguf(gguf, bhp);
                nVocab = bhp.NVocab;
            }
            else
            {
                lhp = LlamaHParams.FromGguf(gguf);
                lw = LlamaWeights.FromGguf(gguf, lhp);
                nVocab = lhp.NVocab;
            }
            tok = TokenizerLoader.FromGguf(gguf);
            if (tok.VocabSize != nVocab)
            {
                throw new ModelFormatException(path, $"the tokenizer has {tok.VocabSize} tokens but token_embd.weight has {nVocab} rows");
            }
            backends = BackendSelector.Create(options.Backend, options.Threads, out string note);
            scheduler = new Scheduler(backends);
            encoder = bert
                ? new BertEncoder(path, gguf, scheduler, bhp!, bw!)
                : new DecoderEncoder(path, gguf, scheduler, backends[0], lhp!, lw!);
            return new EmbeddingModel(path, encoder, backends, scheduler, note, tok, options);
        }
        catch
        {
            scheduler?.Dispose();
            foreach (IBackend b in backends ?? [])
            {
                b.Dispose();
            }
            gguf.Dispose();
            throw;
        }
    }

    /// <summary>The embedding of <paramref name="text"/> (<see cref="Dimension"/> floats).</summary>
    /// <exception cref="ArgumentException">The text is longer than <see cref="MaxTokens"/> tokens and <see cref="Truncate"/> is off.</exception>
    public float[] Embed(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return EmbedTokens(Tokenize(text));
    }

    /// <summary>The embeddings of several texts, one array per text.</summary>
    /// <exception cref="ArgumentException">A text is too long (see <see cref="Embed"/>).</exception>
    public float[][] EmbedBatch(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var result = new float[texts.Count][];
        for (int i = 0; i < texts.Count; i++)
        {
            result[i] = Embed(texts[i] ?? throw new ArgumentException($"Text {i} is null.", nameof(texts)));
        }
        return result;
    }

    /// <summary>Tokenises <paramref name="text"/> as <see cref="Embed"/> does (special tokens added, cut or refused at <see cref="MaxTokens"/>).</summary>
    public int[] Tokenize(string text)
    {
        int[] ids = Tokenizer.Encode(text, addSpecial: true);
        if (ids.Length > MaxTokens)
        {
            if (!Truncate)
            {
                throw new ArgumentException($"The text is {ids.Length} tokens long; {System.IO.Path.GetFileName(Path)} takes at most {MaxTokens} (split it, or turn on truncation).");
            }
            int last = ids[^1];
            Array.Resize(ref ids, MaxTokens);
            if (Tokenizer.AddEos && ids.Length > 0)
            {
                ids[^1] = last; // keep the closing [SEP]
            }
        }
        if (ids.Length == 0)
        {
            throw new ArgumentException("The text produced no tokens.");
        }
        return ids;
    }

    /// <summary>The pooled (and, with <see cref="Normalize"/>, unit-length) embedding of a token sequence.</summary>
    /// <exception cref="ArgumentException">The sequence is empty, too long, or holds an id outside the vocabulary.</exception>
    public float[] EmbedTokens(ReadOnlySpan<int> tokens)
    {
        float[] hidden = HiddenStates(tokens);
        int e = Dimension, n = tokens.Length;
        var result = new float[e];
        switch (Pooling)
        {
            case PoolingType.Cls:
                hidden.AsSpan(0, e).CopyTo(result);
                break;
            case PoolingType.Last:
                hidden.AsSpan((n - 1) * e, e).CopyTo(result);
                break;
            default:
                var sum = new double[e];
                for (int t = 0; t < n; t++)
                {
                    for (int i = 0; i < e; i++)
                    {
                        sum[i] += hidden[t * e + i];
                    }
                }
                for (int i = 0; i < e; i++)
                {
                    result[i] = (float)(sum[i] / n);
                }
                break;
        }
        if (Normalize)
        {
            double ss = 0;
            foreach (float f in result)
            {
                ss += (double)f * f;
            }
            if (ss > 0)
            {
                float inv = (float)(1.0 / Math.Sqrt(ss));
                for (int i = 0; i < e; i++)
                {
                    result[i] *= inv;
                }
            }
        }
        return result;
    }

    /// <summary>Final token states of a sequence, token after token ([n_tokens × n_embd]).</summary>
    /// <exception cref="ArgumentException">The sequence is empty, too long, or holds an id outside the vocabulary.</exception>
    public float[] HiddenStates(ReadOnlySpan<int> tokens)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int n = tokens.Length;
        if (n == 0)
        {
            throw new ArgumentException("Nothing to embed: the token list is empty.");
        }
        if (n > MaxTokens)
        {
            throw new ArgumentException($"{n} tokens exceed the model's context of {MaxTokens}.");
        }
        foreach (int t in tokens)
        {
            if ((uint)t >= (uint)VocabSize)
            {
                throw new ArgumentException($"Token id {t} is outside the vocabulary (0..{VocabSize - 1}).");
            }
        }
        lock (_gate)
        {
            return _encoder.Hidden(tokens);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _encoder.Dispose();
        _scheduler.Dispose();
        foreach (IBackend b in _backends)
        {
            b.Dispose();
        }
    }
}
