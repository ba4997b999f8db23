using System.Runtime.InteropServices;
using Weft.Core;
using Weft.Core.Gguf;
using Weft.Tests;

namespace Weft.Models.Tests.Embeddings;

/// <summary>
/// A tiny BERT with seeded random weights, written as a GGUF with the real bert-bge WordPiece vocabulary, and an
/// independent forward pass in plain double loops that reads only the arrays held here.
/// </summary>
internal sealed class SyntheticBert
{
    public const int E = 32, H = 4, L = 2, FF = 48, Ctx = 64, Types = 2;
    public const double Eps = 1e-5;

    public int Vocab { get; }
    private readonly Dictionary<string, (float[] Data, long[] Shape)> _t = new();

    /// <summary>Matrices are stored as F16 (as in real BERT GGUFs); the reference then uses the rounded values.</summary>
    public bool F16 { get; }

    public SyntheticBert(int seed = 1234, bool f16 = false)
    {
        F16 = f16;
        using GgufFile vocab = GgufFile.Open(VocabPath);
        Vocab = vocab.GetStringArray("tokenizer.ggml.tokens").Count;
        var rng = new Random(seed);
        float[] R(int n, double scale, double mean = 0) => Enumerable.Range(0, n).Select(_ => (float)(mean + scale * (rng.NextDouble() * 2 - 1))).ToArray();
        void Add(string name, float[] data, params long[] shape)
        {
            if (f16 && shape.Length == 2)
            {
                for (int i = 0; i < data.Length; i++) data[i] = (float)(Half)data[i];
            }
            _t[name] = (data, shape);
        }

        Add("token_embd.weight", R(E * Vocab, 0.5), E, Vocab);
        Add("position_embd.weight", R(E * Ctx, 0.3), E, Ctx);
        Add("token_types.weight", R(E * Types, 0.3), E, Types);
        Add("token_embd_norm.weight", R(E, 0.2, 1.0), E);
        Add("token_embd_norm.bias", R(E, 0.1), E);
        for (int l = 0; l < L; l++)
        {
            string p = $"blk.{l}.";
            foreach (string m in new[] { "attn_q", "attn_k", "attn_v", "attn_output" })
            {
                Add(p + m + ".weight", R(E * E, 0.35), E, E);
                Add(p + m + ".bias", R(E, 0.1), E);
            }
            Add(p + "attn_output_norm.weight", R(E, 0.2, 1.0), E);
            Add(p + "attn_output_norm.bias", R(E, 0.1), E);
            Add(p + "ffn_up.weight", R(E * FF, 0.35), E, FF);
            Add(p + "ffn_up.bias", R(FF, 0.1), FF);
            Add(p + "ffn_down.weight", R(FF * E, 0.3), FF, E);
            Add(p + "ffn_down.bias", R(E, 0.1), E);
            Add(p + "layer_output_norm.weight", R(E, 0.2, 1.0), E);
            Add(p + "layer_output_norm.bias", R(E, 0.1), E);
        }
    }

    public static string VocabPath => TestAssets.Require("tokenizers/llamacpp/ggml-vocab-bert-bge.gguf");

    /// <summary>Writes the model; <paramref name="skip"/> leaves a tensor out, <paramref name="pooling"/> null leaves the key out.</summary>
    public void Write(string path, int? pooling = 1, string? skip = null)
    {
        using GgufFile vocab = GgufFile.Open(VocabPath);
        var w = new GgufWriter();
        foreach (string k in vocab.MetadataKeys)
        {
            if (k.StartsWith("tokenizer.", StringComparison.Ordinal))
            {
                w.Set(k, vocab.Metadata[k]);
            }
        }
        w.Set("general.architecture", GgufValue.Of("bert"));
        w.Set("general.name", GgufValue.Of("synthetic-bert"));
        w.Set("bert.embedding_length", GgufValue.Of((uint)E));
        w.Set("bert.block_count", GgufValue.Of((uint)L));
        w.Set("bert.attention.head_count", GgufValue.Of((uint)H));
        w.Set("bert.feed_forward_length", GgufValue.Of((uint)FF));
        w.Set("bert.context_length", GgufValue.Of((uint)Ctx));
        w.Set("bert.attention.layer_norm_epsilon", GgufValue.Of((float)Eps));
        if (pooling is int p)
        {
            w.Set("bert.pooling_type", GgufValue.Of((uint)p));
        }
        foreach ((string name, (float[] data, long[] shape)) in _t)
        {
            if (name != skip)
            {
                if (F16 && shape.Length == 2)
                {
                    Half[] h = data.Select(x => (Half)x).ToArray();
                    w.AddTensor(name, DType.F16, shape, MemoryMarshal.AsBytes(h.AsSpan()));
                }
                else
                {
                    w.AddTensor(name, DType.F32, shape, MemoryMarshal.AsBytes(data.AsSpan()));
                }
            }
        }
        w.Write(path);
    }

    private float[] T(string name) => _t[name].Data;

    // out[n] = Σ_k W[n*K + k] x[k] + b[n]  (ggml [K, N] weight: N rows of K)
    private static double[] Linear(float[] w, float[] b, double[] x, int k, int n)
    {
        var y = new double[n];
        for (int j = 0; j < n; j++)
        {
            double s = b[j];
            for (int i = 0; i < k; i++) s += (double)w[j * k + i] * x[i];
            y[j] = s;
        }
        return y;
    }

    private static double[] LayerNorm(double[] x, float[] g, float[] b)
    {
        double mean = x.Average();
        double var = x.Select(v => (v - mean) * (v - mean)).Average();
        double inv = 1.0 / Math.Sqrt(var + Eps);
        return x.Select((v, i) => (v - mean) * inv * g[i] + b[i]).ToArray();
    }

    private static double Gelu(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));

    /// <summary>Final token states, step by step: embeddings, then per layer attention and feed-forward with post-norms.</summary>
    public double[][] Hidden(int[] tokens)
    {
        int n = tokens.Length, hd = E / H;
        var x = new double[n][];
        for (int t = 0; t < n; t++)
        {
            var v = new double[E];
            for (int i = 0; i < E; i++)
            {
                v[i] = (double)T("token_embd.weight")[tokens[t] * E + i] + T("position_embd.weight")[t * E + i] + T("token_types.weight")[i];
            }
            x[t] = LayerNorm(v, T("token_embd_norm.weight"), T("token_embd_norm.bias"));
        }
        for (int l = 0; l < L; l++)
        {
            string p = $"blk.{l}.";
            double[][] q = x.Select(v => Linear(T(p + "attn_q.weight"), T(p + "attn_q.bias"), v, E, E)).ToArray();
            double[][] k = x.Select(v => Linear(T(p + "attn_k.weight"), T(p + "attn_k.bias"), v, E, E)).ToArray();
            double[][] vv = x.Select(v => Linear(T(p + "attn_v.weight"), T(p + "attn_v.bias"), v, E, E)).ToArray();
            var next = new double[n][];
            for (int t = 0; t < n; t++)
            {
                var attn = new double[E];
                for (int h = 0; h < H; h++)
                {
                    var s = new double[n];
                    for (int u = 0; u < n; u++)
                    {
                        double d = 0;
                        for (int i = 0; i < hd; i++) d += q[t][h * hd + i] * k[u][h * hd + i];
                        s[u] = d / Math.Sqrt(hd);
                    }
                    double max = s.Max();
                    double[] ex = s.Select(z => Math.Exp(z - max)).ToArray();
                    double sum = ex.Sum();
                    for (int u = 0; u < n; u++)
                    {
                        for (int i = 0; i < hd; i++) attn[h * hd + i] += ex[u] / sum * vv[u][h * hd + i];
                    }
                }
                double[] o = Linear(T(p + "attn_output.weight"), T(p + "attn_output.bias"), attn, E, E);
                double[] r = o.Select((z, i) => z + x[t][i]).ToArray();
                double[] a = LayerNorm(r, T(p + "attn_output_norm.weight"), T(p + "attn_output_norm.bias"));
                double[] up = Linear(T(p + "ffn_up.weight"), T(p + "ffn_up.bias"), a, E, FF).Select(Gelu).ToArray();
                double[] down = Linear(T(p + "ffn_down.weight"), T(p + "ffn_down.bias"), up, FF, E);
                next[t] = LayerNorm(down.Select((z, i) => z + a[i]).ToArray(), T(p + "layer_output_norm.weight"), T(p + "layer_output_norm.bias"));
            }
            x = next;
        }
        return x;
    }

    /// <summary>Pooled, L2-normalised embedding (pooling: 1 mean, 2 cls, 3 last).</summary>
    public double[] Embedding(int[] tokens, int pooling)
    {
        double[][] h = Hidden(tokens);
        double[] v = pooling switch
        {
            2 => h[0],
            3 => h[^1],
            _ => Enumerable.Range(0, E).Select(i => h.Average(r => r[i])).ToArray(),
        };
        double norm = Math.Sqrt(v.Sum(z => z * z));
        return v.Select(z => z / norm).ToArray();
    }
}
