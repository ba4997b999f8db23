using Weft.Core;
using Weft.Core.Gguf;

namespace Weft.Models.Llama;

/// <summary>Hyper-parameters of a Llama-family decoder (llama, qwen2), read from GGUF metadata or a llama2.c header.</summary>
public sealed record LlamaHParams
{
    /// <summary>GGUF architecture name (<c>llama</c>, <c>qwen2</c>).</summary>
    public required string Architecture { get; init; }
    /// <summary>Model width.</summary>
    public required int NEmbd { get; init; }
    /// <summary>Number of blocks.</summary>
    public required int NLayer { get; init; }
    /// <summary>Query heads.</summary>
    public required int NHead { get; init; }
    /// <summary>Key/value heads (GQA when fewer than <see cref="NHead"/>).</summary>
    public required int NHeadKv { get; init; }
    /// <summary>Feed-forward width.</summary>
    public required int NFf { get; init; }
    /// <summary>Vocabulary size (rows of the embedding).</summary>
    public required int NVocab { get; init; }
    /// <summary>Context length the model was trained with.</summary>
    public required int NCtxTrain { get; init; }
    /// <summary>Rotary dimensions per head.</summary>
    public required int NRot { get; init; }
    /// <summary>RMS norm epsilon.</summary>
    public required float RmsEps { get; init; }
    /// <summary>Rope base frequency.</summary>
    public float RopeFreqBase { get; init; } = 10000f;
    /// <summary>Rope linear scale factor applied to positions (1/scaling factor).</summary>
    public float RopeFreqScale { get; init; } = 1f;
    /// <summary>Rope mode (<see cref="RopeMode.Normal"/> for llama, <see cref="RopeMode.NeoX"/> for qwen2).</summary>
    public int RopeMode { get; init; } = Core.RopeMode.Normal;

    /// <summary>Dimension of one head.</summary>
    public int HeadDim => NEmbd / NHead;
    /// <summary>Width of the K/V projections (all KV heads).</summary>
    public int NEmbdKv => HeadDim * NHeadKv;

    /// <summary>Architectures this loader builds.</summary>
    public static IReadOnlyList<string> SupportedArchitectures { get; } = ["llama", "qwen2"];

    /// <summary>Reads the hyper-parameters of <paramref name="gguf"/>.</summary>
    /// <exception cref="ModelFormatException">Unsupported architecture, missing or inconsistent keys.</exception>
    public static LlamaHParams FromGguf(GgufFile gguf)
    {
        if (!gguf.TryGetString("general.architecture", out string? arch))
        {
            throw new ModelFormatException(gguf.FilePath, "metadata key 'general.architecture' is missing");
        }
        if (!SupportedArchitectures.Contains(arch))
        {
            throw new ModelFormatException(gguf.FilePath, $"architecture '{arch}' is not supported (supported: {string.Join(", ", SupportedArchitectures)})");
        }
        int Req(string key)
        {
            string full = $"{arch}.{key}";
            if (!gguf.TryGetInt(full, out long v))
            {
                throw new ModelFormatException(gguf.FilePath, $"metadata key '{full}' is missing");
            }
            if (v <= 0 || v > int.MaxValue)
            {
                throw new ModelFormatException(gguf.FilePath, $"metadata key '{full}' = {v} is out of range");
            }
            return (int)v;
        }
        int nEmbd = Req("embedding_length");
        int nHead = Req("attention.head_count");
        int nHeadKv = gguf.TryGetInt($"{arch}.attention.head_count_kv", out long kv) ? (int)kv : nHead;
        int nVocab;
        if (gguf.TryGetStringArray("tokenizer.ggml.tokens", out IReadOnlyList<string>? tokens))
        {
            nVocab = tokens.Count;
        }
        else if (gguf.TryGetInt($"{arch}.vocab_size", out long vs))
        {
            nVocab = (int)vs;
        }
        else
        {
            nVocab = (int)gguf.GetTensorInfo("token_embd.weight").Ne[1];
        }
        float freqScale = 1f;
        if (gguf.TryGetString($"{arch}.rope.scaling.type", out string? scalingType) && scalingType == "linear"
            && gguf.TryGetFloat($"{arch}.rope.scaling.factor", out float factor) && factor > 0)
        {
            freqScale = 1f / factor;
        }
        else if (gguf.TryGetFloat($"{arch}.rope.scale_linear", out float linear) && linear > 0)
        {
            freqScale = 1f / linear;
        }
        var hp = new LlamaHParams
        {
            Architecture = arch,
            NEmbd = nEmbd,
            NLayer = Req("block_count"),
            NHead = nHead,
            NHeadKv = nHeadKv,
            NFf = Req("feed_forward_length"),
            NVocab = nVocab,
            NCtxTrain = Req("context_length"),
            NRot = gguf.TryGetInt($"{arch}.rope.dimension_count", out long rot) ? (int)rot : nEmbd / nHead,
            RmsEps = gguf.TryGetFloat($"{arch}.attention.layer_norm_rms_epsilon", out float eps) ? eps : 1e-5f,
            RopeFreqBase = gguf.TryGetFloat($"{arch}.rope.freq_base", out float fb) ? fb : 10000f,
            RopeFreqScale = freqScale,
            RopeMode = arch == "qwen2" ? Core.RopeMode.NeoX : Core.RopeMode.Normal,
        };
        hp.Validate(gguf.FilePath);
        return hp;
    }

    /// <summary>Checks the shapes are consistent.</summary>
    /// <exception cref="ModelFormatException">They are not.</exception>
    public void Validate(string source)
    {
        if (NEmbd % NHead != 0)
        {
            throw new ModelFormatException(source, $"embedding length {NEmbd} is not a multiple of the head count {NHead}");
        }
        if (NHeadKv <= 0 || NHead % NHeadKv != 0)
        {
            throw new ModelFormatException(source, $"KV head count {NHeadKv} does not divide the head count {NHead}");
        }
        if (NRot <= 0 || NRot > HeadDim || NRot % 2 != 0)
        {
            throw new ModelFormatException(source, $"rope dimension count {NRot} must be even and at most the head size {HeadDim}");
        }
        if (!(RmsEps > 0) || !float.IsFinite(RopeFreqBase) || RopeFreqBase <= 0)
        {
            throw new ModelFormatException(source, "rms epsilon and rope base must be positive");
        }
    }
}

/// <summary>A model file that cannot be used: missing tensors, wrong shapes, unsupported architecture or dtype.</summary>
public sealed class ModelFormatException(string source, string message) : Exception($"{source}: {message}")
{
    /// <summary>The file (or other source) the problem is in.</summary>
    public string ModelPath { get; } = source;
}
