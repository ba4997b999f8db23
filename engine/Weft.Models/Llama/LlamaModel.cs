using Weft.Core;
using Weft.Core.Gguf;
using Weft.Models.Templates;
using Weft.Tokenizers;

namespace Weft.Models.Llama;

/// <summary>
/// A loaded Llama-family model: hyper-parameters, weights (memory-mapped from GGUF, or read from a llama2.c
/// checkpoint), its tokenizer and chat template. Load once, then create any number of <see cref="LlamaContext"/>s.
/// </summary>
/// <example>
/// <code>
/// using var model = LlamaModel.Load("stories260K.gguf");
/// using var ctx = model.CreateContext(new ContextParams { ContextSize = 256 });
/// var gen = new Generator(ctx);
/// await foreach (GeneratedToken t in gen.GenerateAsync("Once upon a time", new GenerationParams { MaxTokens = 32 }))
///     Console.Write(t.Text);
/// </code>
/// </example>
public sealed class LlamaModel : IDisposable
{
    private readonly IDisposable _owner;

    private LlamaModel(string path, LlamaHParams hp, LlamaWeights w, Tokenizer tokenizer, ChatTemplate? template, IDisposable owner)
    {
        Path = path;
        HParams = hp;
        Weights = w;
        Tokenizer = tokenizer;
        ChatTemplate = template;
        _owner = owner;
        if (tokenizer.VocabSize != hp.NVocab)
        {
            throw new ModelFormatException(path, $"the tokenizer has {tokenizer.VocabSize} tokens but the model's vocabulary has {hp.NVocab}");
        }
    }

    /// <summary>The file the model was loaded from.</summary>
    public string Path { get; }
    /// <summary>Hyper-parameters.</summary>
    public LlamaHParams HParams { get; }
    /// <summary>Weights.</summary>
    public LlamaWeights Weights { get; }
    /// <summary>The model's tokenizer.</summary>
    public Tokenizer Tokenizer { get; }
    /// <summary>The chat template from <c>tokenizer.chat_template</c>, or null when the file has none.</summary>
    public ChatTemplate? ChatTemplate { get; }

    /// <summary>
    /// Loads a GGUF model, or a llama2.c checkpoint (<c>.bin</c>) with <paramref name="tokenizerPath"/> (default:
    /// <c>tokenizer.bin</c> or <c>tok{vocab}.bin</c> beside it).
    /// </summary>
    /// <exception cref="ModelFormatException">Unsupported architecture or type, missing or mis-shaped tensors.</exception>
    /// <exception cref="GgufFormatException">The GGUF file is malformed.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <param name="path">The model file.</param>
    /// <param name="tokenizerPath">llama2.c tokenizer for a <c>.bin</c> checkpoint.</param>
    /// <param name="load">
    /// How a GGUF file's bytes are held: null (the default) reads the file into memory when it takes at most half of
    /// the memory available to the process and maps it otherwise; <c>WEFT_MMAP=1</c> / <c>0</c> force either way.
    /// Read weights stay resident: mapped pages of a large model can be reclaimed between tokens and faulted in again,
    /// which on this project's test machine made 1b-F16 decode 5× slower.
    /// </param>
    public static LlamaModel Load(string path, string? tokenizerPath = null, GgufLoadMode? load = null)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Model file not found: {path}", path);
        }
        if (IsGguf(path))
        {
            GgufFile gguf = GgufFile.Open(path, load ?? ChooseLoadMode(path));
            try
            {
                LlamaHParams hp = LlamaHParams.FromGguf(gguf);
                LlamaWeights w = LlamaWeights.FromGguf(gguf, hp);
                Tokenizer tok = TokenizerLoader.FromGguf(gguf);
                ChatTemplate? template = null;
                if (gguf.TryGetString("tokenizer.chat_template", out string? src))
                {
                    string bos = tok.BosId >= 0 ? tok.TokenText(tok.BosId) : "";
                    string eos = tok.EosId >= 0 ? tok.TokenText(tok.EosId) : "";
                    template = new ChatTemplate(src, bos, eos);
                }
                return new LlamaModel(path, hp, w, tok, template, gguf);
            }
            catch
            {
                gguf.Dispose();
                throw;
            }
        }

        Llama2cCheckpoint ck = Llama2cCheckpoint.Load(path, size => Weft.Cpu.CpuBufferType.Instance.Allocate(size));
        try
        {
            string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
            tokenizerPath ??= new[] { System.IO.Path.Combine(dir, "tokenizer.bin"), System.IO.Path.Combine(dir, $"tok{ck.HParams.NVocab}.bin") }
                .FirstOrDefault(File.Exists)
                ?? throw new ModelFormatException(path, $"no tokenizer given and neither tokenizer.bin nor tok{ck.HParams.NVocab}.bin is beside the checkpoint");
            (string[] pieces, float[] scores) = Llama2cCheckpoint.LoadTokenizer(tokenizerPath, ck.HParams.NVocab);
            Tokenizer tok = SentencePieceVocab.FromPieces("llama2.c " + System.IO.Path.GetFileName(tokenizerPath), pieces, scores, bosId: 1, eosId: 2);
            return new LlamaModel(path, ck.HParams, ck.Weights, tok, null, ck);
        }
        catch
        {
            ck.Dispose();
            throw;
        }
    }

    private static bool IsGguf(string path)
    {
        Span<byte> magic = stackalloc byte[4];
        using FileStream fs = File.OpenRead(path);
        return fs.Read(magic) == 4 && BitConverter.ToUInt32(magic) == GgufFile.Magic;
    }

    private readonly Dictionary<IBufferType, (LlamaWeights Weights, IBuffer Buffer)> _deviceWeights = new();
    private readonly object _deviceLock = new();

    /// <summary>
    /// The weights as the given backend should see them: the host tensors for host memory, otherwise copies uploaded
    /// once (per buffer type, for the model's lifetime) into the backend's device memory, so that the scheduler runs
    /// the matrix products where the weights live.
    /// </summary>
    public LlamaWeights WeightsFor(IBackend backend)
    {
        IBufferType bt = backend.Device.DefaultBufferType;
        if (bt.IsHost)
        {
            return Weights;
        }
        lock (_deviceLock)
        {
            if (_deviceWeights.TryGetValue(bt, out var cached))
            {
                return cached.Weights;
            }
            // As llama.cpp does, the token embedding table stays in host memory (only a few rows are read per batch)
            // unless the output projection shares it.
            bool keepEmbdOnHost = !ReferenceEquals(Weights.Output, Weights.TokEmbd);
            var all = Weights.All().Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>()
                .Where(t => !(keepEmbdOnHost && ReferenceEquals(t, Weights.TokEmbd))).ToList();
            (long[] placed, long size) = BufferLayout.Place(all.Select(t => bt.AllocSize(t)).ToArray(), bt.Alignment, bt.ContiguousLimit);
            var offsets = new Dictionary<Tensor, long>(ReferenceEqualityComparer.Instance);
            for (int i = 0; i < all.Count; i++)
            {
                offsets[all[i]] = placed[i];
            }
            IBuffer buffer = bt.Allocate(size);
            try
            {
                LlamaWeights device = Weights.Map(t =>
                {
                    if (!offsets.ContainsKey(t))
                    {
                        return t;
                    }
                    var d = new Tensor { Type = t.Type, Ne = t.Ne, Nb = t.Nb, Name = t.Name, Flags = t.Flags, Buffer = buffer, Offset = offsets[t] };
                    d.Data = buffer.HostPointer == 0 ? 0 : buffer.HostPointer + (nint)d.Offset;
                    unsafe
                    {
                        buffer.Write(d.Offset, new ReadOnlySpan<byte>((void*)t.Data, checked((int)t.ByteSize)));
                    }
                    return d;
                });
                _deviceWeights[bt] = (device, buffer);
                return device;
            }
            catch
            {
                buffer.Dispose();
                throw;
            }
        }
    }

    /// <summary>Creates an inference context (KV cache and compute state).</summary>
    /// <exception cref="ArgumentException">Invalid parameters.</exception>
    public LlamaContext CreateContext(ContextParams? parameters = null) => new(this, parameters ?? new ContextParams());

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_deviceLock)
        {
            foreach (var (_, buffer) in _deviceWeights.Values)
            {
                buffer.Dispose();
            }
            _deviceWeights.Clear();
        }
        _owner.Dispose();
    }

    /// <summary>
    /// The load mode used when none is given: <c>WEFT_MMAP=1</c> maps and <c>WEFT_MMAP=0</c> reads; otherwise a file
    /// of at most half the memory available to the process is read, a larger one mapped.
    /// </summary>
    public static GgufLoadMode ChooseLoadMode(string path)
    {
        switch (Environment.GetEnvironmentVariable("WEFT_MMAP"))
        {
            case "1": return GgufLoadMode.Map;
            case "0": return GgufLoadMode.Read;
        }
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return new FileInfo(path).Length <= available / 2 ? GgufLoadMode.Read : GgufLoadMode.Map;
    }
}
