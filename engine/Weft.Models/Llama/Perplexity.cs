namespace Weft.Models.Llama;

/// <summary>Result of a perplexity run.</summary>
/// <param name="Ppl">exp of the mean negative log-likelihood over every scored token.</param>
/// <param name="StdErr">Standard error of the PPL estimate (delta method, as llama.cpp prints "+/-").</param>
/// <param name="Chunks">Chunks scored.</param>
/// <param name="ScoredTokens">Tokens scored.</param>
/// <param name="ChunkPpl">Running PPL after each chunk.</param>
public sealed record PerplexityResult(double Ppl, double StdErr, int Chunks, int ScoredTokens, IReadOnlyList<double> ChunkPpl);

/// <summary>
/// Perplexity by llama.cpp's method: the text is tokenized once, cut into non-overlapping chunks of n_ctx tokens
/// (the first token of each chunk replaced by BOS when the tokenizer adds one), each chunk evaluated from an empty
/// cache, and only the second half of each chunk scored (every scored token sees at least n_ctx/2 tokens of context).
/// </summary>
public static class Perplexity
{
    /// <summary>Scores <paramref name="tokens"/> with chunks of <paramref name="nCtx"/> tokens.</summary>
    /// <param name="ctx">A context of at least <paramref name="nCtx"/> positions (it is cleared).</param>
    /// <param name="tokens">The tokenized text (with the BOS token first when the model adds one, as llama.cpp tokenizes it).</param>
    /// <param name="nCtx">Chunk length (at least 4).</param>
    /// <param name="progress">Called with (chunk index, running PPL) after each chunk.</param>
    /// <param name="cancellationToken">Stops between chunks.</param>
    /// <exception cref="ArgumentException">Fewer than 2 × nCtx tokens (llama.cpp's minimum), or nCtx too small or larger than the context.</exception>
    public static PerplexityResult Compute(LlamaContext ctx, IReadOnlyList<int> tokens, int nCtx, Action<int, double>? progress = null, CancellationToken cancellationToken = default)
    {
        if (nCtx < 4)
        {
            throw new ArgumentException($"The chunk length must be at least 4 tokens, not {nCtx}.");
        }
        if (nCtx > ctx.Size)
        {
            throw new ArgumentException($"The chunk length {nCtx} exceeds the context size {ctx.Size}.");
        }
        int nChunks = tokens.Count / nCtx;
        if (tokens.Count < 2 * nCtx)
        {
            throw new ArgumentException($"The text has {tokens.Count} tokens; at least {2 * nCtx} (2 × the chunk length {nCtx}) are needed.");
        }
        int nVocab = ctx.Model.HParams.NVocab;
        bool addBos = ctx.Model.Tokenizer.AddBos && ctx.Model.Tokenizer.BosId >= 0;
        int first = nCtx / 2;
        double nll = 0, nll2 = 0;
        int count = 0;
        var running = new List<double>(nChunks);
        var chunk = new int[nCtx];
        for (int c = 0; c < nChunks; c++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (int i = 0; i < nCtx; i++)
            {
                chunk[i] = tokens[c * nCtx + i];
            }
            if (addBos)
            {
                chunk[0] = ctx.Model.Tokenizer.BosId;
            }
            ctx.Clear();
            float[] logits = ctx.DecodeAll(chunk);
            for (int i = first; i < nCtx - 1; i++)
            {
                ReadOnlySpan<float> row = logits.AsSpan(i * nVocab, nVocab);
                int target = tokens[c * nCtx + i + 1];
                double max = double.NegativeInfinity;
                foreach (float v in row)
                {
                    max = Math.Max(max, v);
                }
                double sum = 0;
                foreach (float v in row)
                {
                    sum += Math.Exp(v - max);
                }
                double logProb = row[target] - max - Math.Log(sum);
                nll -= logProb;
                nll2 += logProb * logProb;
                count++;
            }
            double ppl = Math.Exp(nll / count);
            running.Add(ppl);
            progress?.Invoke(c, ppl);
        }
        double mean = nll / count;
        double var = nll2 / count - mean * mean;
        double stderr = count > 1 && var > 0 ? Math.Sqrt(var / (count - 1)) * Math.Exp(mean) : 0;
        return new PerplexityResult(Math.Exp(mean), stderr, nChunks, count, running);
    }
}
