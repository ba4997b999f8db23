using Weft.Core.Gguf;
using Weft.Models.Llama;

namespace Weft.Models.Embeddings;

/// <summary>Hyper-parameters of a BERT-family encoder (GGUF architecture <c>bert</c>).</summary>
/// <param name="NVocab">Vocabulary size (rows of <c>token_embd.weight</c>).</param>
/// <param name="NEmbd">Hidden size.</param>
/// <param name="NLayer">Encoder blocks.</param>
/// <param name="NHead">Attention heads.</param>
/// <param name="NFf">Feed-forward size.</param>
/// <param name="NCtx">Longest input in tokens (rows of <c>position_embd.weight</c>).</param>
/// <param name="NTokenTypes">Token types (rows of <c>token_types.weight</c>).</param>
/// <param name="Eps">Layer-norm epsilon.</param>
/// <param name="Pooling">Pooling from the file (mean when it has none).</param>
public sealed record BertHParams(int NVocab, int NEmbd, int NLayer, int NHead, int NFf, int NCtx, int NTokenTypes, float Eps, PoolingType Pooling)
{
    /// <summary>Per-head size.</summary>
    public int HeadDim => NEmbd / NHead;

    /// <summary>Reads and checks the hyper-parameters of a <c>bert</c> GGUF.</summary>
    /// <exception cref="ModelFormatException">A key is missing or inconsistent.</exception>
    public static BertHParams FromGguf(GgufFile gguf)
    {
        const string a = "bert";
        int Int(string key)
        {
            string full = $"{a}.{key}";
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
        int nEmbd = Int("embedding_length");
        int nHead = Int("attention.head_count");
        if (nEmbd % nHead != 0)
        {
            throw new ModelFormatException(gguf.FilePath, $"embedding length {nEmbd} is not a multiple of the head count {nHead}");
        }
        float eps = gguf.TryGetFloat($"{a}.attention.layer_norm_epsilon", out float e) ? e : 1e-12f;
        if (!(eps > 0f) || eps > 1f)
        {
            throw new ModelFormatException(gguf.FilePath, $"layer-norm epsilon {eps} is out of range");
        }
        PoolingType pooling = PoolingType.Mean;
        if (gguf.TryGetInt($"{a}.pooling_type", out long p))
        {
            if (p is < 0 or > 3)
            {
                throw new ModelFormatException(gguf.FilePath, $"pooling type {p} is unknown (0 none, 1 mean, 2 cls, 3 last)");
            }
            pooling = (PoolingType)p;
        }
        if (!gguf.TryGetTensorInfo("token_embd.weight", out GgufTensorInfo? tok))
        {
            throw new ModelFormatException(gguf.FilePath, "tensor 'token_embd.weight' is missing");
        }
        if (!gguf.TryGetTensorInfo("token_types.weight", out GgufTensorInfo? types))
        {
            throw new ModelFormatException(gguf.FilePath, "tensor 'token_types.weight' is missing");
        }
        return new BertHParams((int)tok.Ne[1], nEmbd, Int("block_count"), nHead, Int("feed_forward_length"), Int("context_length"),
            (int)types.Ne[1], eps, pooling);
    }
}
