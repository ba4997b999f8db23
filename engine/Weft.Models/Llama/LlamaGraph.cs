using Weft.Core;

namespace Weft.Models.Llama;

/// <summary>
/// Records the forward graph of a Llama-family decoder for one batch of tokens, as llama.cpp's build_llama does:
/// embeddings → per block (RMS norm, Q/K/V projections with optional bias, rope, K/V appended to the cache, fused causal
/// attention over the cache, output projection, residual, RMS norm, SwiGLU feed-forward, residual) → final norm → logits.
/// </summary>
public static class LlamaGraph
{
    /// <summary>The inputs and outputs of one recorded batch.</summary>
    /// <param name="Graph">The graph: cache writes come first, then the logits.</param>
    /// <param name="Tokens">I32 [n_tokens] input: token ids.</param>
    /// <param name="Positions">I32 [n_tokens] input: absolute positions.</param>
    /// <param name="Logits">F32 [n_vocab, n_outputs] output.</param>
    public sealed record Batch(Graph Graph, Tensor Tokens, Tensor Positions, Tensor Logits);

    /// <summary>Records the graph evaluating <paramref name="nTokens"/> tokens after <paramref name="nPast"/> cached ones.</summary>
    /// <param name="hp">Hyper-parameters.</param>
    /// <param name="w">Weights.</param>
    /// <param name="cache">The KV cache (its tensors are leaves the graph writes into and reads from).</param>
    /// <param name="nPast">Tokens already in the cache (position of the first new token).</param>
    /// <param name="nTokens">Tokens in this batch.</param>
    /// <param name="allLogits">Logits for every token (perplexity) instead of only the last one (generation).</param>
    public static Batch Build(LlamaHParams hp, LlamaWeights w, KvCache cache, int nPast, int nTokens, bool allLogits)
    {
        if (nTokens <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(nTokens), "A batch needs at least one token.");
        }
        if (nPast + nTokens > cache.Size)
        {
            throw new ArgumentException($"The batch needs {nPast + nTokens} cache positions but the context holds {cache.Size}.");
        }
        var g = new GraphBuilder();
        Tensor tokens = g.Input(DType.I32, nTokens, name: "inp_tokens");
        Tensor pos = g.Input(DType.I32, nTokens, name: "inp_pos");
        int hd = hp.HeadDim;
        int nKv = nPast + nTokens;
        float kqScale = 1f / MathF.Sqrt(hd);
        var outputs = new List<Tensor>(2 * hp.NLayer + 1);

        Tensor inp = g.GetRows(w.TokEmbd, tokens, "inp_embd");
        for (int il = 0; il < hp.NLayer; il++)
        {
            LlamaLayer l = w.Layers[il];
            Tensor cur = g.Mul(g.RmsNorm(inp, hp.RmsEps, $"norm-{il}"), l.AttnNorm, $"attn_norm-{il}");

            Tensor q = g.MatMul(l.Wq, cur, $"Qcur-{il}");
            Tensor k = g.MatMul(l.Wk, cur, $"Kcur-{il}");
            Tensor v = g.MatMul(l.Wv, cur, $"Vcur-{il}");
            if (l.Bq is not null) q = g.Add(q, l.Bq, $"Qcur_b-{il}");
            if (l.Bk is not null) k = g.Add(k, l.Bk, $"Kcur_b-{il}");
            if (l.Bv is not null) v = g.Add(v, l.Bv, $"Vcur_b-{il}");

            q = g.Rope(g.Reshape(q, hd, hp.NHead, nTokens), pos, hp.NRot, hp.RopeMode, hp.NCtxTrain, hp.RopeFreqBase, hp.RopeFreqScale,
                freqFactors: w.RopeFreqs, name: $"Qrope-{il}");
            k = g.Rope(g.Reshape(k, hd, hp.NHeadKv, nTokens), pos, hp.NRot, hp.RopeMode, hp.NCtxTrain, hp.RopeFreqBase, hp.RopeFreqScale,
                freqFactors: w.RopeFreqs, name: $"Krope-{il}");

            // Append this batch's K and V to the cache: rows nPast .. nPast+nTokens of [n_embd_kv, n_ctx].
            Tensor kc = cache.K[il], vc = cache.V[il];
            Tensor kDst = g.View(kc, Long4.Of(hp.NEmbdKv, nTokens), kc.Nb[1], kc.Nb[1] * nTokens, kc.Nb[1] * nTokens, kc.Nb[1] * nPast, $"k_cache_view-{il}");
            Tensor vDst = g.View(vc, Long4.Of(hp.NEmbdKv, nTokens), vc.Nb[1], vc.Nb[1] * nTokens, vc.Nb[1] * nTokens, vc.Nb[1] * nPast, $"v_cache_view-{il}");
            outputs.Add(g.Cpy(k, kDst, $"k_cache_store-{il}"));
            outputs.Add(g.Cpy(v, vDst, $"v_cache_store-{il}"));

            // Attention over cache rows 0 .. nKv, heads as the third dimension: [head_dim, n_kv, n_head_kv].
            Tensor kAll = g.View(kc, Long4.Of(hd, nKv, hp.NHeadKv), kc.Nb[1], kc.Traits.RowSize(hd), kc.Nb[1] * nKv, 0, $"k-{il}");
            Tensor vAll = g.View(vc, Long4.Of(hd, nKv, hp.NHeadKv), vc.Nb[1], vc.Traits.RowSize(hd), vc.Nb[1] * nKv, 0, $"v-{il}");
            Tensor qh = g.Permute(q, 0, 2, 1, 3, $"q-{il}"); // [head_dim, n_tokens, n_head]
            Tensor attn = g.FlashAttn(qh, kAll, vAll, kqScale, causal: true, nPast: nPast, name: $"attn-{il}"); // [hd, n_head, n_tokens]
            cur = g.MatMul(l.Wo, g.Reshape(attn, hp.NEmbd, nTokens), $"attn_out-{il}");
            Tensor ffnInp = g.Add(cur, inp, $"ffn_inp-{il}");

            cur = g.Mul(g.RmsNorm(ffnInp, hp.RmsEps, $"ffn_rms-{il}"), l.FfnNorm, $"ffn_norm-{il}");
            Tensor gate = g.MatMul(l.WGate, cur, $"ffn_gate-{il}");
            Tensor up = g.MatMul(l.WUp, cur, $"ffn_up-{il}");
            cur = g.MatMul(l.WDown, g.SwiGlu(gate, up, $"ffn_swiglu-{il}"), $"ffn_out-{il}");
            inp = g.Add(cur, ffnInp, $"l_out-{il}");
        }

        if (!allLogits && nTokens > 1)
        {
            inp = g.View(inp, Long4.Of(hp.NEmbd, 1), inp.Nb[1], inp.Nb[1], inp.Nb[1], inp.Nb[1] * (nTokens - 1), "last_token");
            inp = g.Cont(inp, "last_token_cont");
        }
        Tensor outNorm = g.Mul(g.RmsNorm(inp, hp.RmsEps, "result_rms"), w.OutputNorm, "result_norm");
        Tensor logits = g.MatMul(w.Output, outNorm, "result_output");
        outputs.Add(logits);
        return new Batch(g.Build(outputs.ToArray()), tokens, pos, logits);
    }
}
