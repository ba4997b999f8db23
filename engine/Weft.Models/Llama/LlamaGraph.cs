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
    /// <param name="Graph">The graph (it does not depend on the cache fill: reuse it for every batch of the same size).</param>
    /// <param name="Tokens">I32 [n_tokens] input: token ids.</param>
    /// <param name="Positions">I32 [n_tokens] input: absolute positions.</param>
    /// <param name="KvLength">I32 [1] input: cache rows valid after this batch (n_past + n_tokens).</param>
    /// <param name="Logits">F32 [n_vocab, n_outputs] output.</param>
    public sealed record Batch(Graph Graph, Tensor Tokens, Tensor Positions, Tensor KvLength, Tensor Logits)
    {
        /// <summary>I32 [n_tokens] input of a masked graph: the cache row each token's K and V go to (null: row = position).</summary>
        public Tensor? Cells { get; init; }
        /// <summary>F16 [cache size, n_tokens] input of a masked graph: 0 where a token may attend to a cache row, -inf
        /// elsewhere; only the first kv_len columns are read (null: causal by position).</summary>
        public Tensor? Mask { get; init; }
        /// <summary>I32 [n_outputs] input of a masked graph: the batch rows whose logits are computed, in order (null:
        /// every row).</summary>
        public Tensor? OutputRows { get; init; }
    }

    /// <summary>Records the graph evaluating <paramref name="nTokens"/> tokens; where they go in the cache is given at run time by the inputs.</summary>
    /// <param name="hp">Hyper-parameters.</param>
    /// <param name="w">Weights.</param>
    /// <param name="cache">The KV cache (its tensors are leaves the graph writes into and reads from).</param>
    /// <param name="nTokens">Tokens in this batch.</param>
    /// <param name="allLogits">Logits for every token (perplexity) instead of only the last one (generation).</param>
    /// <param name="hiddenStates">Stop after the final norm: <see cref="Batch.Logits"/> then holds every token's
    /// normalised hidden state, F32 [n_embd, n_tokens] (embedding models pool these); <paramref name="allLogits"/> is ignored.</param>
    public static Batch Build(LlamaHParams hp, LlamaWeights w, KvCache cache, int nTokens, bool allLogits, bool hiddenStates = false)
    {
        if (nTokens <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(nTokens), "A batch needs at least one token.");
        }
        if (nTokens > cache.Size)
        {
            throw new ArgumentException($"A batch of {nTokens} tokens does not fit a context of {cache.Size}.");
        }
        var g = new GraphBuilder();
        Tensor tokens = g.Input(DType.I32, nTokens, name: "inp_tokens");
        Tensor pos = g.Input(DType.I32, nTokens, name: "inp_pos");
        Tensor kvLen = g.Input(DType.I32, 1, name: "inp_kv_len");
        Tensor inp = Blocks(g, hp, w, cache, nTokens, tokens, pos, pos, null, kvLen);

        if (!allLogits && !hiddenStates && nTokens > 1)
        {
            inp = g.View(inp, Long4.Of(hp.NEmbd, 1), inp.Nb[1], inp.Nb[1], inp.Nb[1], inp.Nb[1] * (nTokens - 1), "last_token");
            inp = g.Cont(inp, "last_token_cont");
        }
        Tensor outNorm = g.Mul(g.RmsNorm(inp, hp.RmsEps, "result_rms"), w.OutputNorm, "result_norm");
        if (hiddenStates)
        {
            return new Batch(g.Build(outNorm), tokens, pos, kvLen, outNorm);
        }
        Tensor logits = g.MatMul(w.Output, outNorm, "result_output");
        return new Batch(g.Build(logits), tokens, pos, kvLen, logits);
    }

    /// <summary>
    /// Records the graph evaluating <paramref name="nTokens"/> tokens of possibly several sequences (llama.cpp's
    /// unified KV cache): each token's K and V go to the cache row named by <see cref="Batch.Cells"/>, and attention reads
    /// the first kv_len rows through <see cref="Batch.Mask"/> instead of a causal limit. Logits are computed for the
    /// <paramref name="nOutputs"/> rows named by <see cref="Batch.OutputRows"/> (for every row, in order, when
    /// <paramref name="nOutputs"/> equals <paramref name="nTokens"/>). Every input's size is fixed by the two counts, so the
    /// graph serves every step with the same shape.
    /// </summary>
    /// <param name="hp">Hyper-parameters.</param>
    /// <param name="w">Weights.</param>
    /// <param name="cache">The KV cache.</param>
    /// <param name="nTokens">Tokens in this batch.</param>
    /// <param name="nOutputs">Rows whose logits are computed (1 .. <paramref name="nTokens"/>).</param>
    public static Batch BuildMasked(LlamaHParams hp, LlamaWeights w, KvCache cache, int nTokens, int nOutputs)
    {
        if (nTokens <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(nTokens), "A batch needs at least one token.");
        }
        if (nTokens > cache.Size)
        {
            throw new ArgumentException($"A batch of {nTokens} tokens does not fit a context of {cache.Size}.");
        }
        if (nOutputs <= 0 || nOutputs > nTokens)
        {
            throw new ArgumentOutOfRangeException(nameof(nOutputs), $"A batch of {nTokens} tokens has 1 .. {nTokens} outputs, not {nOutputs}.");
        }
        var g = new GraphBuilder();
        Tensor tokens = g.Input(DType.I32, nTokens, name: "inp_tokens");
        Tensor pos = g.Input(DType.I32, nTokens, name: "inp_pos");
        Tensor cells = g.Input(DType.I32, nTokens, name: "inp_kv_cells");
        Tensor mask = g.Input(DType.F16, cache.Size, nTokens, name: "inp_kq_mask");
        Tensor kvLen = g.Input(DType.I32, 1, name: "inp_kv_len");
        Tensor inp = Blocks(g, hp, w, cache, nTokens, tokens, pos, cells, mask, kvLen);
        Tensor? outRows = null;
        if (nOutputs < nTokens)
        {
            outRows = g.Input(DType.I32, nOutputs, name: "inp_out_rows");
            inp = g.GetRows(inp, outRows, "out_rows");
        }
        Tensor outNorm = g.Mul(g.RmsNorm(inp, hp.RmsEps, "result_rms"), w.OutputNorm, "result_norm");
        Tensor logits = g.MatMul(w.Output, outNorm, "result_output");
        return new Batch(g.Build(logits), tokens, pos, kvLen, logits) { Cells = cells, Mask = mask, OutputRows = outRows };
    }

    // The decoder blocks. K and V rows go to the cache rows `cells` (the positions themselves in a single-sequence
    // context); with a mask, attention is limited by it instead of by position (causal).
    private static Tensor Blocks(GraphBuilder g, LlamaHParams hp, LlamaWeights w, KvCache cache, int nTokens,
        Tensor tokens, Tensor pos, Tensor cells, Tensor? mask, Tensor kvLen)
    {
        int hd = hp.HeadDim;
        float kqScale = 1f / MathF.Sqrt(hd);

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

            // Write this batch's K and V into the cache rows given by `cells` (run-time values), then attend over the
            // whole cache through views of the writes: the first kv_len rows are valid (also a run-time value), so the
            // same graph serves every position and the context reuses it from token to token.
            Tensor kc = cache.K[il], vc = cache.V[il];
            Tensor kStore = g.SetRows(kc, g.Reshape(k, hp.NEmbdKv, nTokens), cells, $"k_cache_store-{il}");
            Tensor vStore = g.SetRows(vc, v, cells, $"v_cache_store-{il}");
            Tensor kAll = g.View(kStore, Long4.Of(hd, cache.Size, hp.NHeadKv), kc.Nb[1], kc.Traits.RowSize(hd), kc.Nb[1] * cache.Size, 0, $"k-{il}");
            Tensor vAll = g.View(vStore, Long4.Of(hd, cache.Size, hp.NHeadKv), vc.Nb[1], vc.Traits.RowSize(hd), vc.Nb[1] * cache.Size, 0, $"v-{il}");
            Tensor qh = g.Permute(q, 0, 2, 1, 3, $"q-{il}"); // [head_dim, n_tokens, n_head]
            Tensor attn = g.FlashAttn(qh, kAll, vAll, kqScale, causal: mask is null, mask: mask, name: $"attn-{il}", kvLength: kvLen); // [hd, n_head, n_tokens]
            cur = g.MatMul(l.Wo, g.Reshape(attn, hp.NEmbd, nTokens), $"attn_out-{il}");
            Tensor ffnInp = g.Add(cur, inp, $"ffn_inp-{il}");

            cur = g.Mul(g.RmsNorm(ffnInp, hp.RmsEps, $"ffn_rms-{il}"), l.FfnNorm, $"ffn_norm-{il}");
            Tensor gate = g.MatMul(l.WGate, cur, $"ffn_gate-{il}");
            Tensor up = g.MatMul(l.WUp, cur, $"ffn_up-{il}");
            cur = g.MatMul(l.WDown, g.SwiGlu(gate, up, $"ffn_swiglu-{il}"), $"ffn_out-{il}");
            inp = g.Add(cur, ffnInp, $"l_out-{il}");
        }
        return inp;
    }
}
