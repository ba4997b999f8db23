using Weft.Core;
using Weft.Core.Gguf;

namespace Weft.Models.Llama;

/// <summary>Weights of one transformer block.</summary>
public sealed class LlamaLayer
{
    /// <summary>RMS norm before attention.</summary>
    public required Tensor AttnNorm { get; init; }
    /// <summary>Query projection [n_embd, n_embd].</summary>
    public required Tensor Wq { get; init; }
    /// <summary>Key projection [n_embd, n_embd_kv].</summary>
    public required Tensor Wk { get; init; }
    /// <summary>Value projection [n_embd, n_embd_kv].</summary>
    public required Tensor Wv { get; init; }
    /// <summary>Output projection [n_embd, n_embd].</summary>
    public required Tensor Wo { get; init; }
    /// <summary>Query bias (qwen2).</summary>
    public Tensor? Bq { get; init; }
    /// <summary>Key bias (qwen2).</summary>
    public Tensor? Bk { get; init; }
    /// <summary>Value bias (qwen2).</summary>
    public Tensor? Bv { get; init; }
    /// <summary>RMS norm before the feed-forward.</summary>
    public required Tensor FfnNorm { get; init; }
    /// <summary>Gate projection [n_embd, n_ff].</summary>
    public required Tensor WGate { get; init; }
    /// <summary>Up projection [n_embd, n_ff].</summary>
    public required Tensor WUp { get; init; }
    /// <summary>Down projection [n_ff, n_embd].</summary>
    public required Tensor WDown { get; init; }
}

/// <summary>All weights of a Llama-family model, as tensors in host memory (memory-mapped GGUF or loaded llama2.c).</summary>
public sealed class LlamaWeights
{
    /// <summary>Token embedding [n_embd, n_vocab].</summary>
    public required Tensor TokEmbd { get; init; }
    /// <summary>Final RMS norm.</summary>
    public required Tensor OutputNorm { get; init; }
    /// <summary>Output projection [n_embd, n_vocab] (the embedding when tied).</summary>
    public required Tensor Output { get; init; }
    /// <summary>Llama-3 rope frequency factors [n_rot/2], or null.</summary>
    public Tensor? RopeFreqs { get; init; }
    /// <summary>Blocks.</summary>
    public required LlamaLayer[] Layers { get; init; }

    /// <summary>Every weight tensor.</summary>
    public IEnumerable<Tensor> All()
    {
        yield return TokEmbd;
        yield return OutputNorm;
        if (!ReferenceEquals(Output, TokEmbd)) yield return Output;
        if (RopeFreqs is not null) yield return RopeFreqs;
        foreach (LlamaLayer l in Layers)
        {
            foreach (Tensor? t in new[] { l.AttnNorm, l.Wq, l.Wk, l.Wv, l.Wo, l.Bq, l.Bk, l.Bv, l.FfnNorm, l.WGate, l.WUp, l.WDown })
            {
                if (t is not null) yield return t;
            }
        }
    }

    /// <summary>A copy of these weights with every tensor replaced by <paramref name="map"/> (tied tensors stay tied).</summary>
    public LlamaWeights Map(Func<Tensor, Tensor> map)
    {
        var done = new Dictionary<Tensor, Tensor>(ReferenceEqualityComparer.Instance);
        Tensor M(Tensor t) => done.TryGetValue(t, out Tensor? m) ? m : done[t] = map(t);
        Tensor? O(Tensor? t) => t is null ? null : M(t);
        return new LlamaWeights
        {
            TokEmbd = M(TokEmbd),
            OutputNorm = M(OutputNorm),
            Output = M(Output),
            RopeFreqs = O(RopeFreqs),
            Layers = Layers.Select(l => new LlamaLayer
            {
                AttnNorm = M(l.AttnNorm), Wq = M(l.Wq), Wk = M(l.Wk), Wv = M(l.Wv), Wo = M(l.Wo),
                Bq = O(l.Bq), Bk = O(l.Bk), Bv = O(l.Bv),
                FfnNorm = M(l.FfnNorm), WGate = M(l.WGate), WUp = M(l.WUp), WDown = M(l.WDown),
            }).ToArray(),
        };
    }

    /// <summary>Binds the weights of a GGUF file, checking names, shapes and types.</summary>
    /// <exception cref="ModelFormatException">A tensor is missing, has the wrong shape or an unsupported type.</exception>
    public static LlamaWeights FromGguf(GgufFile gguf, LlamaHParams hp)
    {
        Tensor Get(string name, long ne0, long ne1 = 1, bool optional = false)
        {
            if (!gguf.TryGetTensorInfo(name, out GgufTensorInfo? info))
            {
                if (optional) return null!;
                throw new ModelFormatException(gguf.FilePath, $"tensor '{name}' is missing");
            }
            if (info.Ne[0] != ne0 || info.Ne[1] != ne1 || info.Ne[2] != 1 || info.Ne[3] != 1)
            {
                throw new ModelFormatException(gguf.FilePath, $"tensor '{name}' has shape [{string.Join(", ", info.Shape)}], expected [{ne0}, {ne1}]");
            }
            if (!TypeTraits.Of(info.Type).IsSupported || info.Type is DType.Q8_1 or DType.Q8_K or DType.I32)
            {
                throw new ModelFormatException(gguf.FilePath, $"tensor '{name}' has type {TypeTraits.Of(info.Type).Name}, which Weft cannot compute with");
            }
            Tensor t = gguf.CreateTensor(info);
            t.Flags |= TensorFlags.Weight;
            return t;
        }

        bool bias = hp.Architecture == "qwen2";
        var layers = new LlamaLayer[hp.NLayer];
        for (int i = 0; i < hp.NLayer; i++)
        {
            string p = $"blk.{i}.";
            layers[i] = new LlamaLayer
            {
                AttnNorm = Get(p + "attn_norm.weight", hp.NEmbd),
                Wq = Get(p + "attn_q.weight", hp.NEmbd, hp.NEmbd),
                Wk = Get(p + "attn_k.weight", hp.NEmbd, hp.NEmbdKv),
                Wv = Get(p + "attn_v.weight", hp.NEmbd, hp.NEmbdKv),
                Wo = Get(p + "attn_output.weight", hp.NEmbd, hp.NEmbd),
                Bq = bias ? Get(p + "attn_q.bias", hp.NEmbd, optional: true) : null,
                Bk = bias ? Get(p + "attn_k.bias", hp.NEmbdKv, optional: true) : null,
                Bv = bias ? Get(p + "attn_v.bias", hp.NEmbdKv, optional: true) : null,
                FfnNorm = Get(p + "ffn_norm.weight", hp.NEmbd),
                WGate = Get(p + "ffn_gate.weight", hp.NEmbd, hp.NFf),
                WUp = Get(p + "ffn_up.weight", hp.NEmbd, hp.NFf),
                WDown = Get(p + "ffn_down.weight", hp.NFf, hp.NEmbd),
            };
        }
        Tensor tok = Get("token_embd.weight", hp.NEmbd, hp.NVocab);
        Tensor? output = Get("output.weight", hp.NEmbd, hp.NVocab, optional: true);
        return new LlamaWeights
        {
            TokEmbd = tok,
            OutputNorm = Get("output_norm.weight", hp.NEmbd),
            Output = output ?? tok,
            RopeFreqs = Get("rope_freqs.weight", hp.NRot / 2, optional: true),
            Layers = layers,
        };
    }
}
