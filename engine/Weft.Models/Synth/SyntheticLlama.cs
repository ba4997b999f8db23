using System.Runtime.InteropServices;
using Weft.Core;
using Weft.Core.Gguf;

namespace Weft.Models.Synth;

/// <summary>
/// Generates deterministic synthetic Llama models with the tensor names, shapes and metadata llama.cpp writes, random
/// normal weights and a real vocabulary copied from a vocab GGUF. Data is produced tensor by tensor while the file
/// is written, in chunks, so even a multi-gigabyte model needs only a few megabytes of memory.
/// </summary>
/// <remarks>
/// <code>
/// using GgufFile vocab = GgufFile.Open("ggml-vocab-llama-spm.gguf");
/// GgufWriter w = SyntheticLlama.Create(new SynthOptions { Preset = SynthPreset.Tiny, Seed = 1 }, vocab);
/// w.Write("tiny.gguf");   // keep vocab open until Write returns
/// </code>
/// </remarks>
public static class SyntheticLlama
{
    private const int ChunkElements = 1 << 16;

    /// <summary>One tensor of the model: name, type, shape (ggml order, ne0 first) and whether it is a norm.</summary>
    public readonly record struct TensorSpec(string Name, DType Type, long[] Shape, bool IsNorm);

    /// <summary>The tensors of the model in file order, with the types <paramref name="options"/> selects.</summary>
    public static IReadOnlyList<TensorSpec> Tensors(SynthOptions options, int vocabSize)
    {
        SynthPreset p = options.Preset;
        long e = p.EmbeddingLength, kv = (long)p.HeadCountKv * p.HeadDim, ff = p.FeedForwardLength;
        var list = new List<TensorSpec>();
        void Matrix(string name, long ne0, long ne1)
        {
            DType t = ne0 % TypeTraits.Of(options.WeightType).BlockSize == 0 ? options.WeightType : options.FallbackType;
            list.Add(new TensorSpec(name, t, [ne0, ne1], false));
        }
        void Norm(string name) => list.Add(new TensorSpec(name, DType.F32, [e], true));

        Matrix("token_embd.weight", e, vocabSize);
        for (int i = 0; i < p.BlockCount; i++)
        {
            Norm($"blk.{i}.attn_norm.weight");
            Matrix($"blk.{i}.attn_q.weight", e, e);
            Matrix($"blk.{i}.attn_k.weight", e, kv);
            Matrix($"blk.{i}.attn_v.weight", e, kv);
            Matrix($"blk.{i}.attn_output.weight", e, e);
            Norm($"blk.{i}.ffn_norm.weight");
            Matrix($"blk.{i}.ffn_gate.weight", e, ff);
            Matrix($"blk.{i}.ffn_up.weight", e, ff);
            Matrix($"blk.{i}.ffn_down.weight", ff, e);
        }
        Norm("output_norm.weight");
        Matrix("output.weight", e, vocabSize);
        return list;
    }

    /// <summary>
    /// A writer holding the model: llama metadata, every <c>tokenizer.ggml.*</c> key of <paramref name="vocab"/>,
    /// and tensors whose data is generated when the writer writes (keep <paramref name="vocab"/> open until then).
    /// </summary>
    /// <exception cref="ArgumentException">Inconsistent preset, non-positive scale, or a type that needs an <see cref="SynthOptions.Encoder"/>.</exception>
    /// <exception cref="GgufFormatException"><paramref name="vocab"/> lacks <c>tokenizer.ggml.tokens</c>.</exception>
    public static GgufWriter Create(SynthOptions options, GgufFile vocab)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(vocab);
        SynthPreset p = options.Preset;
        p.Validate();
        if (!(options.Scale > 0) || !float.IsFinite(options.Scale))
        {
            throw new ArgumentException($"Scale must be a positive number, not {options.Scale}.", nameof(options));
        }
        int vocabSize = vocab.GetStringArray("tokenizer.ggml.tokens").Count;
        IReadOnlyList<TensorSpec> tensors = Tensors(options, vocabSize);
        foreach (TensorSpec t in tensors)
        {
            if (t.Type is not (DType.F32 or DType.F16 or DType.BF16) && options.Encoder is null)
            {
                throw new ArgumentException($"Tensor '{t.Name}' of type {TypeTraits.Of(t.Type).Name} needs an encoder (write F32/F16 and convert with 'weft quantize').", nameof(options));
            }
        }

        var w = new GgufWriter();
        w.Set("general.architecture", GgufValue.Of("llama"));
        w.Set("general.name", GgufValue.Of($"weft-synth-{p.Name}"));
        w.Set("general.file_type", GgufValue.Of((uint)ModelInfo.FileTypeFor(options.WeightType)));
        if (TypeTraits.Of(options.WeightType).IsQuantized)
        {
            w.Set("general.quantization_version", GgufValue.Of(2u));
        }
        w.Set("llama.vocab_size", GgufValue.Of((uint)vocabSize));
        w.Set("llama.context_length", GgufValue.Of((uint)p.ContextLength));
        w.Set("llama.embedding_length", GgufValue.Of((uint)p.EmbeddingLength));
        w.Set("llama.block_count", GgufValue.Of((uint)p.BlockCount));
        w.Set("llama.feed_forward_length", GgufValue.Of((uint)p.FeedForwardLength));
        w.Set("llama.rope.dimension_count", GgufValue.Of((uint)p.HeadDim));
        w.Set("llama.rope.freq_base", GgufValue.Of(p.RopeFreqBase));
        w.Set("llama.attention.head_count", GgufValue.Of((uint)p.HeadCount));
        w.Set("llama.attention.head_count_kv", GgufValue.Of((uint)p.HeadCountKv));
        w.Set("llama.attention.layer_norm_rms_epsilon", GgufValue.Of(p.RmsNormEpsilon));
        w.Set("weft.synth.preset", GgufValue.Of(p.Name));
        w.Set("weft.synth.seed", GgufValue.Of(options.Seed));
        w.Set("weft.synth.scale", GgufValue.Of(options.Scale));
        foreach (string key in vocab.MetadataKeys)
        {
            if (key.StartsWith("tokenizer.ggml.", StringComparison.Ordinal))
            {
                w.Set(key, vocab.Metadata[key]);
            }
        }
        foreach (TensorSpec t in tensors)
        {
            TensorSpec spec = t;
            w.AddTensor(t.Name, t.Type, t.Shape, s => WriteData(spec, options, s));
        }
        return w;
    }

    /// <summary>Generates and writes the model to <paramref name="path"/> atomically.</summary>
    /// <param name="options">Model options.</param>
    /// <param name="vocab">Vocabulary source.</param>
    /// <param name="path">Output file.</param>
    /// <param name="progress">Called after each tensor with (name, bytes done, bytes total).</param>
    /// <exception cref="ArgumentException">See <see cref="Create"/>.</exception>
    public static void Write(SynthOptions options, GgufFile vocab, string path, Action<string, long, long>? progress = null)
    {
        GgufWriter w = Create(options, vocab);
        w.Progress = progress;
        w.Write(path);
    }

    private static void WriteData(TensorSpec t, SynthOptions o, Stream s)
    {
        long ne0 = t.Shape[0];
        long total = t.Shape.Aggregate(1L, (a, b) => a * b);
        TypeTraits tt = TypeTraits.Of(t.Type);
        // Whole rows per chunk so block encoders always see complete blocks and rows.
        long rowsPerChunk = Math.Max(1, ChunkElements / ne0);
        int chunk = (int)Math.Min(total, rowsPerChunk * ne0);
        var values = new float[chunk];
        var bytes = new byte[chunk / tt.BlockSize * tt.TypeSize];
        var rng = new SynthRandom(o.Seed, t.Name);
        for (long done = 0; done < total; done += chunk)
        {
            int n = (int)Math.Min(chunk, total - done);
            Span<float> v = values.AsSpan(0, n);
            if (t.IsNorm)
            {
                v.Fill(1f);
            }
            else
            {
                rng.FillNormal(v, o.Scale);
            }
            Span<byte> b = bytes.AsSpan(0, n / tt.BlockSize * tt.TypeSize);
            Encode(t.Type, v, b, o.Encoder);
            s.Write(b);
        }
    }

    private static void Encode(DType type, ReadOnlySpan<float> src, Span<byte> dst, RowEncoder? encoder)
    {
        switch (type)
        {
            case DType.F32:
                MemoryMarshal.AsBytes(src).CopyTo(dst);
                break;
            case DType.F16:
                Span<Half> h = MemoryMarshal.Cast<byte, Half>(dst);
                for (int i = 0; i < src.Length; i++)
                {
                    h[i] = (Half)src[i];
                }
                break;
            case DType.BF16:
                Span<ushort> bf = MemoryMarshal.Cast<byte, ushort>(dst);
                for (int i = 0; i < src.Length; i++)
                {
                    // Round to nearest even on the dropped 16 bits (NaN cannot occur: inputs are finite normals or 1).
                    uint bits = BitConverter.SingleToUInt32Bits(src[i]);
                    bf[i] = (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
                }
                break;
            default:
                encoder!(type, src, dst);
                break;
        }
    }
}
