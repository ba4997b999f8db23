using System.Runtime.InteropServices;
using System.Text;
using Weft.Core;

namespace Weft.Models.Llama;

/// <summary>
/// Loads karpathy's llama2.c checkpoints (<c>model.bin</c>: a 7-int header then float32 weights) and their
/// <c>tokenizer.bin</c> (max token length, then score/length/bytes per token).
/// </summary>
/// <remarks>
/// Header: dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size (negative when the classifier is not shared),
/// seq_len. Weights follow in this order: token_embedding [vocab, dim], rms_att [L, dim], wq [L, dim, dim],
/// wk [L, kv_dim, dim], wv [L, kv_dim, dim], wo [L, dim, dim], rms_ffn [L, dim], w1 [L, hidden, dim],
/// w2 [L, dim, hidden], w3 [L, hidden, dim], rms_final [dim], freq_cis_real/imag [seq_len, head/2] (unused: rope is
/// recomputed), then wcls [vocab, dim] when not shared. Row-major [out, in] is ggml's [ne0 = in, ne1 = out].
/// </remarks>
public sealed class Llama2cCheckpoint : IDisposable
{
    private readonly IBuffer _buffer;

    private Llama2cCheckpoint(LlamaHParams hp, LlamaWeights w, IBuffer buffer)
    {
        HParams = hp;
        Weights = w;
        _buffer = buffer;
    }

    /// <summary>Hyper-parameters from the header (rope base 10000, rms eps 1e-5 as run.c uses).</summary>
    public LlamaHParams HParams { get; }
    /// <summary>Weights, as F32 tensors in host memory owned by this object.</summary>
    public LlamaWeights Weights { get; }

    /// <summary>Reads a checkpoint.</summary>
    /// <param name="path">The .bin file.</param>
    /// <param name="allocate">Allocates a host buffer of the given size (the CPU backend's buffer type).</param>
    /// <exception cref="ModelFormatException">The header is implausible or the file size does not match it.</exception>
    public static unsafe Llama2cCheckpoint Load(string path, Func<long, IBuffer> allocate)
    {
        using FileStream fs = File.OpenRead(path);
        long fileLen = fs.Length;
        if (fileLen < 28)
        {
            throw new ModelFormatException(path, $"file is {fileLen} bytes, shorter than the 28-byte llama2.c header");
        }
        Span<int> h = stackalloc int[7];
        fs.ReadExactly(MemoryMarshal.AsBytes(h));
        (int dim, int hidden, int nLayers, int nHeads, int nKvHeads, int vocabRaw, int seqLen) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6]);
        bool shared = vocabRaw > 0;
        int vocab = Math.Abs(vocabRaw);
        string[] names = ["dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"];
        for (int i = 0; i < 7; i++)
        {
            int v = i == 5 ? vocab : h[i];
            if (v <= 0 || v > 1 << 20)
            {
                throw new ModelFormatException(path, $"header field {names[i]} = {h[i]} (byte offset {i * 4}) is out of range");
            }
        }
        if (dim % nHeads != 0 || nHeads % nKvHeads != 0)
        {
            throw new ModelFormatException(path, $"header dim {dim}, n_heads {nHeads}, n_kv_heads {nKvHeads} are inconsistent");
        }
        int headSize = dim / nHeads;
        int kvDim = headSize * nKvHeads;
        long L = nLayers;
        long floats = (long)vocab * dim + L * dim + L * dim * dim + 2 * L * kvDim * dim + L * dim * dim + L * dim
            + 3 * L * hidden * dim + dim + (long)seqLen * headSize;
        if (!shared)
        {
            floats += (long)vocab * dim;
        }
        long expected = 28 + floats * 4;
        if (fileLen != expected)
        {
            throw new ModelFormatException(path, $"file is {fileLen} bytes but its header describes {expected} bytes (dim {dim}, hidden {hidden}, layers {nLayers}, heads {nHeads}/{nKvHeads}, vocab {vocab}, seq_len {seqLen})");
        }

        IBuffer buffer = allocate(fileLen - 28);
        try
        {
            var bytes = new Span<byte>((void*)buffer.HostPointer, checked((int)(fileLen - 28)));
            fs.ReadExactly(bytes);
            long offset = 0;
            Tensor Take(string name, long ne0, long ne1 = 1)
            {
                Tensor t = Tensor.NewLeaf(DType.F32, ne0, ne1, name: name);
                t.Buffer = buffer;
                t.Offset = offset;
                t.Data = buffer.HostPointer + (nint)offset;
                t.Flags |= TensorFlags.Weight;
                offset += ne0 * ne1 * 4;
                return t;
            }
            Tensor[] PerLayer(string name, long ne0, long ne1 = 1)
            {
                var r = new Tensor[nLayers];
                for (int i = 0; i < nLayers; i++)
                {
                    r[i] = Take($"blk.{i}.{name}", ne0, ne1);
                }
                return r;
            }
            Tensor tok = Take("token_embd.weight", dim, vocab);
            Tensor[] attNorm = PerLayer("attn_norm.weight", dim);
            Tensor[] wq = PerLayer("attn_q.weight", dim, dim);
            Tensor[] wk = PerLayer("attn_k.weight", dim, kvDim);
            Tensor[] wv = PerLayer("attn_v.weight", dim, kvDim);
            Tensor[] wo = PerLayer("attn_output.weight", dim, dim);
            Tensor[] ffnNorm = PerLayer("ffn_norm.weight", dim);
            Tensor[] w1 = PerLayer("ffn_gate.weight", dim, hidden);
            Tensor[] w2 = PerLayer("ffn_down.weight", hidden, dim);
            Tensor[] w3 = PerLayer("ffn_up.weight", dim, hidden);
            Tensor outNorm = Take("output_norm.weight", dim);
            offset += (long)seqLen * headSize * 4; // freq_cis_real + freq_cis_imag (seq_len * head/2 each)
            Tensor output = shared ? tok : Take("output.weight", dim, vocab);

            var layers = new LlamaLayer[nLayers];
            for (int i = 0; i < nLayers; i++)
            {
                layers[i] = new LlamaLayer
                {
                    AttnNorm = attNorm[i], Wq = wq[i], Wk = wk[i], Wv = wv[i], Wo = wo[i],
                    FfnNorm = ffnNorm[i], WGate = w1[i], WDown = w2[i], WUp = w3[i],
                };
            }
            var hp = new LlamaHParams
            {
                Architecture = "llama",
                NEmbd = dim,
                NLayer = nLayers,
                NHead = nHeads,
                NHeadKv = nKvHeads,
                NFf = hidden,
                NVocab = vocab,
                NCtxTrain = seqLen,
                NRot = headSize,
                RmsEps = 1e-5f,
                RopeFreqBase = 10000f,
            };
            hp.Validate(path);
            return new Llama2cCheckpoint(hp, new LlamaWeights { TokEmbd = tok, OutputNorm = outNorm, Output = output, Layers = layers }, buffer);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>Reads a llama2.c <c>tokenizer.bin</c>: pieces (with '▁' restored for spaces) and scores.</summary>
    /// <exception cref="ModelFormatException">The file is truncated or a length is implausible.</exception>
    public static (string[] Pieces, float[] Scores) LoadTokenizer(string path, int vocabSize)
    {
        byte[] data = File.ReadAllBytes(path);
        int p = 0;
        int ReadInt(string what)
        {
            if (p + 4 > data.Length)
            {
                throw new ModelFormatException(path, $"truncated at byte offset {p} reading {what}");
            }
            int v = BitConverter.ToInt32(data, p);
            p += 4;
            return v;
        }
        int maxLen = ReadInt("max_token_length");
        if (maxLen <= 0 || maxLen > 1 << 16)
        {
            throw new ModelFormatException(path, $"max_token_length {maxLen} at byte offset 0 is out of range");
        }
        var pieces = new string[vocabSize];
        var scores = new float[vocabSize];
        for (int i = 0; i < vocabSize; i++)
        {
            scores[i] = BitConverter.Int32BitsToSingle(ReadInt($"score of token {i}"));
            int len = ReadInt($"length of token {i}");
            if (len < 0 || len > maxLen || p + len > data.Length)
            {
                throw new ModelFormatException(path, $"token {i} length {len} at byte offset {p - 4} is out of range");
            }
            pieces[i] = Encoding.UTF8.GetString(data, p, len).Replace(' ', '\u2581');
            p += len;
        }
        return (pieces, scores);
    }

    /// <inheritdoc/>
    public void Dispose() => _buffer.Dispose();
}
