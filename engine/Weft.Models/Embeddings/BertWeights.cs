using Weft.Core;
using Weft.Core.Gguf;
using Weft.Models.Llama;

namespace Weft.Models.Embeddings;

/// <summary>Weights of one post-norm BERT encoder block.</summary>
public sealed class BertLayer
{
    /// <summary>Query projection [n_embd, n_embd] and bias.</summary>
    public required Tensor Wq { get; init; }
    /// <summary>Query bias [n_embd].</summary>
    public required Tensor Bq { get; init; }
    /// <summary>Key projection [n_embd, n_embd].</summary>
    public required Tensor Wk { get; init; }
    /// <summary>Key bias [n_embd].</summary>
    public required Tensor Bk { get; init; }
    /// <summary>Value projection [n_embd, n_embd].</summary>
    public required Tensor Wv { get; init; }
    /// <summary>Value bias [n_embd].</summary>
    public required Tensor Bv { get; init; }
    /// <summary>Attention output projection [n_embd, n_embd].</summary>
    public required Tensor Wo { get; init; }
    /// <summary>Attention output bias [n_embd].</summary>
    public required Tensor Bo { get; init; }
    /// <summary>Layer norm after attention: weight.</summary>
    public required Tensor AttnNormW { get; init; }
    /// <summary>Layer norm after attention: bias.</summary>
    public required Tensor AttnNormB { get; init; }
    /// <summary>Feed-forward up projection [n_embd, n_ff].</summary>
    public required Tensor WUp { get; init; }
    /// <summary>Feed-forward up bias [n_ff].</summary>
    public required Tensor BUp { get; init; }
    /// <summary>Feed-forward down projection [n_ff, n_embd].</summary>
    public required Tensor WDown { get; init; }
    /// <summary>Feed-forward down bias [n_embd].</summary>
    public required Tensor BDown { get; init; }
    /// <summary>Layer norm after the feed-forward: weight.</summary>
    public required Tensor OutNormW { get; init; }
    /// <summary>Layer norm after the feed-forward: bias.</summary>
    public required Tensor OutNormB { get; init; }
}

/// <summary>All weights of a BERT encoder, memory-mapped from GGUF.</summary>
public sealed class BertWeights
{
    /// <summary>Token embedding [n_embd, n_vocab].</summary>
    public required Tensor TokEmbd { get; init; }
    /// <summary>Absolute position embedding [n_embd, n_ctx].</summary>
    public required Tensor PosEmbd { get; init; }
    /// <summary>Token-type embedding [n_embd, n_types].</summary>
    public required Tensor TypeEmbd { get; init; }
    /// <summary>Embedding layer norm: weight.</summary>
    public required Tensor EmbdNormW { get; init; }
    /// <summary>Embedding layer norm: bias.</summary>
    public required Tensor EmbdNormB { get; init; }
    /// <summary>Blocks.</summary>
    public required BertLayer[] Layers { get; init; }

    /// <summary>Binds the weights of a <c>bert</c> GGUF, checking names, shapes and types.</summary>
    /// <exception cref="ModelFormatException">A tensor is missing, mis-shaped or of a type Weft cannot compute with.</exception>
    public static BertWeights FromGguf(GgufFile gguf, BertHParams hp)
    {
        Tensor Get(string name, long ne0, long ne1 = 1, bool f32 = false)
        {
            if (!gguf.TryGetTensorInfo(name, out GgufTensorInfo? info))
            {
                throw new ModelFormatException(gguf.FilePath, $"tensor '{name}' is missing");
            }
            if (info.Ne[0] != ne0 || info.Ne[1] != ne1 || info.Ne[2] != 1 || info.Ne[3] != 1)
            {
                throw new ModelFormatException(gguf.FilePath, $"tensor '{name}' has shape [{string.Join(", ", info.Shape)}], expected [{ne0}, {ne1}]");
            }
            if (f32 ? info.Type != DType.F32 : (!TypeTraits.Of(info.Type).IsSupported || info.Type is DType.Q8_1 or DType.Q8_K or DType.I32))
            {
                throw new ModelFormatException(gguf.FilePath, $"tensor '{name}' has type {TypeTraits.Of(info.Type).Name}, which Weft cannot compute with here{(f32 ? " (norms and biases must be f32)" : "")}");
            }
            Tensor t = gguf.CreateTensor(info);
            t.Flags |= TensorFlags.Weight;
            return t;
        }

        int e = hp.NEmbd;
        var layers = new BertLayer[hp.NLayer];
        for (int i = 0; i < hp.NLayer; i++)
        {
            string p = $"blk.{i}.";
            layers[i] = new BertLayer
            {
                Wq = Get(p + "attn_q.weight", e, e), Bq = Get(p + "attn_q.bias", e, f32: true),
                Wk = Get(p + "attn_k.weight", e, e), Bk = Get(p + "attn_k.bias", e, f32: true),
                Wv = Get(p + "attn_v.weight", e, e), Bv = Get(p + "attn_v.bias", e, f32: true),
                Wo = Get(p + "attn_output.weight", e, e), Bo = Get(p + "attn_output.bias", e, f32: true),
                AttnNormW = Get(p + "attn_output_norm.weight", e, f32: true), AttnNormB = Get(p + "attn_output_norm.bias", e, f32: true),
                WUp = Get(p + "ffn_up.weight", e, hp.NFf), BUp = Get(p + "ffn_up.bias", hp.NFf, f32: true),
                WDown = Get(p + "ffn_down.weight", hp.NFf, e), BDown = Get(p + "ffn_down.bias", e, f32: true),
                OutNormW = Get(p + "layer_output_norm.weight", e, f32: true), OutNormB = Get(p + "layer_output_norm.bias", e, f32: true),
            };
        }
        return new BertWeights
        {
            TokEmbd = Get("token_embd.weight", e, hp.NVocab),
            PosEmbd = Get("position_embd.weight", e, hp.NCtx),
            TypeEmbd = Get("token_types.weight", e, hp.NTokenTypes),
            EmbdNormW = Get("token_embd_norm.weight", e, f32: true),
            EmbdNormB = Get("token_embd_norm.bias", e, f32: true),
            Layers = layers,
        };
    }
}
