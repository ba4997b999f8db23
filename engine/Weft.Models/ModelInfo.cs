using Weft.Core;
using Weft.Core.Gguf;

namespace Weft.Models;

/// <summary>
/// The hyper-parameters of a model as GGUF stores them under <c>{arch}.*</c> keys, read once so loaders, the CLI and
/// tools agree on defaults.
/// </summary>
/// <remarks>
/// Required keys: <c>general.architecture</c>, <c>{arch}.block_count</c>, <c>{arch}.embedding_length</c>,
/// <c>{arch}.attention.head_count</c>. Defaults as llama.cpp applies them: <c>head_count_kv</c> = head_count,
/// <c>rope.dimension_count</c> = embedding_length / head_count, <c>rope.freq_base</c> = 10000,
/// <c>context_length</c> = 0 when absent. The vocabulary size comes from <c>tokenizer.ggml.tokens</c>, else
/// <c>{arch}.vocab_size</c>, else the second dimension of <c>token_embd.weight</c>.
/// <code>
/// using GgufFile f = GgufFile.Open(path);
/// ModelInfo m = ModelInfo.FromGguf(f);     // m.BlockCount == 5 for stories260K
/// </code>
/// </remarks>
public sealed record ModelInfo
{
    /// <summary>Architecture name (<c>general.architecture</c>), e.g. <c>llama</c>.</summary>
    public required string Architecture { get; init; }
    /// <summary>Model name (<c>general.name</c>), if present.</summary>
    public string? Name { get; init; }
    /// <summary>Training context length (<c>{arch}.context_length</c>; 0 when absent).</summary>
    public long ContextLength { get; init; }
    /// <summary>Embedding width n_embd (<c>{arch}.embedding_length</c>).</summary>
    public int EmbeddingLength { get; init; }
    /// <summary>Number of transformer blocks n_layer (<c>{arch}.block_count</c>).</summary>
    public int BlockCount { get; init; }
    /// <summary>Feed-forward width n_ff (<c>{arch}.feed_forward_length</c>; 0 when absent).</summary>
    public int FeedForwardLength { get; init; }
    /// <summary>Query heads n_head (<c>{arch}.attention.head_count</c>).</summary>
    public int HeadCount { get; init; }
    /// <summary>Key/value heads n_head_kv (<c>{arch}.attention.head_count_kv</c>; defaults to <see cref="HeadCount"/>).</summary>
    public int HeadCountKv { get; init; }
    /// <summary>Width of one head: n_embd / n_head.</summary>
    public int HeadDim => HeadCount == 0 ? 0 : EmbeddingLength / HeadCount;
    /// <summary>Rotated dimensions per head (<c>{arch}.rope.dimension_count</c>; defaults to <see cref="HeadDim"/>).</summary>
    public int RopeDimensionCount { get; init; }
    /// <summary>RoPE base frequency (<c>{arch}.rope.freq_base</c>; defaults to 10000).</summary>
    public float RopeFreqBase { get; init; } = 10000f;
    /// <summary>RMS norm epsilon (<c>{arch}.attention.layer_norm_rms_epsilon</c>), if present.</summary>
    public float? RmsNormEpsilon { get; init; }
    /// <summary>Layer norm epsilon (<c>{arch}.attention.layer_norm_epsilon</c>), if present.</summary>
    public float? LayerNormEpsilon { get; init; }
    /// <summary>Vocabulary size (see the remarks of <see cref="ModelInfo"/>; 0 when nothing says).</summary>
    public int VocabSize { get; init; }
    /// <summary><c>general.file_type</c> (llama.cpp's <c>llama_ftype</c>), if present.</summary>
    public int? FileType { get; init; }
    /// <summary>Name of <see cref="FileType"/>, e.g. <c>Q4_K_M</c>, or null.</summary>
    public string? FileTypeName => FileType is int ft ? FileTypeToName(ft) : null;
    /// <summary>Tokenizer summary, or null when the file has no <c>tokenizer.ggml.model</c>.</summary>
    public TokenizerSummary? Tokenizer { get; init; }

    /// <summary>Reads the hyper-parameters of <paramref name="file"/>.</summary>
    /// <exception cref="GgufFormatException">A required key is missing, has the wrong type, or a value is out of range.</exception>
    public static ModelInfo FromGguf(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        string arch = file.GetString("general.architecture");
        int Positive(string key)
        {
            int v = file.GetInt32(key);
            return v > 0 ? v : throw new GgufFormatException(file.FilePath, $"kv '{key}'", file.GetValue(key).Offset, $"must be positive, found {v}");
        }
        int Optional(string key, int fallback)
        {
            if (!file.ContainsKey(key))
            {
                return fallback;
            }
            int v = file.GetInt32(key);
            return v >= 0 ? v : throw new GgufFormatException(file.FilePath, $"kv '{key}'", file.GetValue(key).Offset, $"must not be negative, found {v}");
        }

        int nEmbd = Positive($"{arch}.embedding_length");
        int nHead = Positive($"{arch}.attention.head_count");
        int nHeadKv = Optional($"{arch}.attention.head_count_kv", nHead);
        if (nHeadKv == 0 || nHead % nHeadKv != 0)
        {
            throw new GgufFormatException(file.FilePath, $"kv '{arch}.attention.head_count_kv'", file.GetValue($"{arch}.attention.head_count_kv").Offset,
                $"{nHeadKv} KV heads do not divide {nHead} query heads");
        }
        float ropeBase = file.TryGetFloat($"{arch}.rope.freq_base", out float rb) ? rb : 10000f;
        int vocab = file.TryGetStringArray("tokenizer.ggml.tokens", out IReadOnlyList<string>? tokens) ? tokens.Count
            : file.TryGetInt($"{arch}.vocab_size", out long vs) ? (int)Math.Clamp(vs, 0, int.MaxValue)
            : file.TryGetTensorInfo("token_embd.weight", out GgufTensorInfo? emb) ? (int)Math.Min(emb.Ne[1], int.MaxValue)
            : 0;
        return new ModelInfo
        {
            Architecture = arch,
            Name = file.TryGetString("general.name", out string? name) ? name : null,
            ContextLength = file.TryGetInt($"{arch}.context_length", out long ctx) ? ctx : 0,
            EmbeddingLength = nEmbd,
            BlockCount = Positive($"{arch}.block_count"),
            FeedForwardLength = Optional($"{arch}.feed_forward_length", 0),
            HeadCount = nHead,
            HeadCountKv = nHeadKv,
            RopeDimensionCount = Optional($"{arch}.rope.dimension_count", nEmbd / nHead),
            RopeFreqBase = ropeBase,
            RmsNormEpsilon = file.TryGetFloat($"{arch}.attention.layer_norm_rms_epsilon", out float rms) ? rms : null,
            LayerNormEpsilon = file.TryGetFloat($"{arch}.attention.layer_norm_epsilon", out float ln) ? ln : null,
            VocabSize = vocab,
            FileType = file.TryGetInt("general.file_type", out long ft) ? (int)Math.Clamp(ft, int.MinValue, int.MaxValue) : null,
            Tokenizer = TokenizerSummary.FromGguf(file),
        };
    }

    private static readonly string[] s_fileTypes =
    [
        "ALL_F32", "MOSTLY_F16", "Q4_0", "Q4_1", "Q4_1_SOME_F16", "Q4_2", "Q4_3", "Q8_0", "Q5_0", "Q5_1", "Q2_K",
        "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "IQ2_XXS", "IQ2_XS", "Q2_K_S",
        "IQ3_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ3_M", "IQ2_S", "IQ2_M", "IQ4_XS", "IQ1_M", "BF16",
    ];

    /// <summary>Name of a <c>general.file_type</c> value (llama.cpp's <c>llama_ftype</c>), e.g. 15 → <c>Q4_K_M</c>.</summary>
    public static string FileTypeToName(int fileType) =>
        (uint)fileType < (uint)s_fileTypes.Length ? s_fileTypes[fileType] : $"unknown ({fileType})";

    /// <summary>The <c>general.file_type</c> for a model whose large weights are all <paramref name="type"/>.</summary>
    /// <exception cref="ArgumentException">No single file type names <paramref name="type"/>.</exception>
    public static int FileTypeFor(DType type) => type switch
    {
        DType.F32 => 0,
        DType.F16 => 1,
        DType.Q4_0 => 2,
        DType.Q4_1 => 3,
        DType.Q8_0 => 7,
        DType.Q5_0 => 8,
        DType.Q5_1 => 9,
        DType.Q2_K => 10,
        DType.Q4_K => 15,
        DType.Q5_K => 17,
        DType.Q6_K => 18,
        DType.BF16 => 32,
        _ => throw new ArgumentException($"No llama.cpp file type corresponds to {TypeTraits.Of(type).Name}.", nameof(type)),
    };

    /// <summary>Summary of a GGUF tokenizer (<c>tokenizer.ggml.*</c>).</summary>
    /// <param name="Model">Tokenizer model: <c>llama</c> (SentencePiece), <c>gpt2</c> (BPE), <c>bert</c> (WordPiece), ...</param>
    /// <param name="TokenCount">Number of tokens.</param>
    /// <param name="BosTokenId">Begin-of-sequence id, if set.</param>
    /// <param name="EosTokenId">End-of-sequence id, if set.</param>
    /// <param name="UnknownTokenId">Unknown-token id, if set.</param>
    /// <param name="PaddingTokenId">Padding id, if set.</param>
    /// <param name="PreTokenizer">Pre-tokenizer name (<c>tokenizer.ggml.pre</c>), if set.</param>
    /// <param name="MergesCount">Number of BPE merges (0 when none).</param>
    public sealed record TokenizerSummary(string Model, int TokenCount, long? BosTokenId, long? EosTokenId,
        long? UnknownTokenId, long? PaddingTokenId, string? PreTokenizer, int MergesCount)
    {
        /// <summary>Reads the summary, or null when the file has no <c>tokenizer.ggml.model</c>.</summary>
        /// <exception cref="GgufFormatException">A tokenizer key has the wrong type.</exception>
        public static TokenizerSummary? FromGguf(GgufFile file)
        {
            if (!file.TryGetString("tokenizer.ggml.model", out string? model))
            {
                return null;
            }
            long? Id(string key) => file.TryGetInt(key, out long v) ? v : null;
            return new TokenizerSummary(
                model,
                file.TryGetStringArray("tokenizer.ggml.tokens", out IReadOnlyList<string>? t) ? t.Count : 0,
                Id("tokenizer.ggml.bos_token_id"),
                Id("tokenizer.ggml.eos_token_id"),
                Id("tokenizer.ggml.unknown_token_id"),
                Id("tokenizer.ggml.padding_token_id"),
                file.TryGetString("tokenizer.ggml.pre", out string? pre) ? pre : null,
                file.TryGetStringArray("tokenizer.ggml.merges", out IReadOnlyList<string>? m) ? m.Count : 0);
        }
    }
}
