using Weft.Core;

namespace Weft.Models.Embeddings;

/// <summary>
/// Records the forward graph of a post-norm BERT encoder for one sequence, as llama.cpp's build_bert does:
/// x = LN(tok + pos + type₀); per block x = LN(x + Wo·attn(x) + bo) with bidirectional attention, then
/// x = LN(x + W2·gelu(W1·x + b1) + b2). The output is every token's final state; pooling happens after.
/// </summary>
public static class BertGraph
{
    /// <summary>The inputs and output of one recorded sequence length.</summary>
    /// <param name="Graph">The graph (reuse it for every sequence of this length).</param>
    /// <param name="Tokens">I32 [n_tokens] input: token ids.</param>
    /// <param name="Positions">I32 [n_tokens] input: 0, 1, … n_tokens-1.</param>
    /// <param name="Hidden">F32 [n_embd, n_tokens] output: final token states.</param>
    public sealed record Batch(Graph Graph, Tensor Tokens, Tensor Positions, Tensor Hidden);

    /// <summary>Records the graph for a sequence of <paramref name="nTokens"/> tokens (token type 0 throughout).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="nTokens"/> is not in 1..n_ctx.</exception>
    public static Batch Build(BertHParams hp, BertWeights w, int nTokens)
    {
        if (nTokens <= 0 || nTokens > hp.NCtx)
        {
            throw new ArgumentOutOfRangeException(nameof(nTokens), $"A BERT sequence holds 1..{hp.NCtx} tokens, not {nTokens}.");
        }
        var g = new GraphBuilder();
        Tensor tokens = g.Input(DType.I32, nTokens, name: "inp_tokens");
        Tensor pos = g.Input(DType.I32, nTokens, name: "inp_pos");
        int e = hp.NEmbd, hd = hp.HeadDim, nh = hp.NHead;
        float eps = hp.Eps;

        Tensor LayerNorm(Tensor x, Tensor weight, Tensor bias, string name) =>
            g.Add(g.Mul(g.Norm(x, eps, name + "_norm"), weight, name + "_w"), bias, name);

        // Heads as [head_dim, n_tokens, n_head], the layout the fused attention takes.
        Tensor Heads(Tensor x, string name) => g.Cont(g.Permute(g.Reshape(x, hd, nh, nTokens), 0, 2, 1, 3), name);

        // Token type 0 for every token: its row is picked with the first position (always 0) as the id, so GetRows
        // converts it to F32 whatever the file's type, and the [n_embd, 1] row broadcasts over the tokens.
        Tensor firstPos = g.View(pos, Long4.Of(1), pos.Nb[1], pos.Nb[2], pos.Nb[3], 0, "pos_0");
        Tensor type0 = g.GetRows(w.TypeEmbd, firstPos, "type_embd_0");
        Tensor x = g.GetRows(w.TokEmbd, tokens, "inp_embd");
        x = g.Add(x, g.GetRows(w.PosEmbd, pos, "pos_embd"), "inp_pos_embd");
        x = g.Add(x, type0, "inp_type_embd");
        x = LayerNorm(x, w.EmbdNormW, w.EmbdNormB, "inp_ln");

        float kqScale = 1f / MathF.Sqrt(hd);
        for (int il = 0; il < hp.NLayer; il++)
        {
            BertLayer l = w.Layers[il];
            Tensor q = g.Add(g.MatMul(l.Wq, x, $"Qcur-{il}"), l.Bq, $"Qcur_b-{il}");
            Tensor k = g.Add(g.MatMul(l.Wk, x, $"Kcur-{il}"), l.Bk, $"Kcur_b-{il}");
            Tensor v = g.Add(g.MatMul(l.Wv, x, $"Vcur-{il}"), l.Bv, $"Vcur_b-{il}");
            Tensor attn = g.FlashAttn(Heads(q, $"q-{il}"), Heads(k, $"k-{il}"), Heads(v, $"v-{il}"), kqScale, causal: false, name: $"attn-{il}");
            Tensor o = g.Add(g.MatMul(l.Wo, g.Reshape(attn, e, nTokens), $"attn_out-{il}"), l.Bo, $"attn_out_b-{il}");
            x = LayerNorm(g.Add(o, x, $"attn_res-{il}"), l.AttnNormW, l.AttnNormB, $"attn_ln-{il}");

            Tensor up = g.Add(g.MatMul(l.WUp, x, $"ffn_up-{il}"), l.BUp, $"ffn_up_b-{il}");
            Tensor down = g.Add(g.MatMul(l.WDown, g.Gelu(up, $"ffn_gelu-{il}"), $"ffn_down-{il}"), l.BDown, $"ffn_down_b-{il}");
            x = LayerNorm(g.Add(down, x, $"ffn_res-{il}"), l.OutNormW, l.OutNormB, $"l_out-{il}");
        }
        return new Batch(g.Build(x), tokens, pos, x);
    }
}
