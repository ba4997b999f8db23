using System.Diagnostics;
using System.Runtime.CompilerServices;
using Weft.Models.Sampling;
using Weft.Tokenizers;

namespace Weft.Models.Llama;

/// <summary>Settings of one generation.</summary>
public sealed record GenerationParams
{
    /// <summary>Most tokens to generate (after the prompt); -1 means until EOS or the context is full.</summary>
    public int MaxTokens { get; init; } = 128;
    /// <summary>Sampling chain settings.</summary>
    public SamplingParams Sampling { get; init; } = new();
    /// <summary>Generation stops when the text ends with one of these (the stop string is not returned).</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];
    /// <summary>Add the model's BOS token before the prompt (when the tokenizer adds one).</summary>
    public bool AddBos { get; init; } = true;
    /// <summary>Parse special-token text (e.g. <c>&lt;|im_start|&gt;</c>) in the prompt as special tokens.</summary>
    public bool ParseSpecial { get; init; }
    /// <summary>Stop at the end-of-generation token (EOS).</summary>
    public bool StopAtEos { get; init; } = true;
    /// <summary>When the context fills up, keep the first <see cref="KeepTokens"/> tokens and the most recent half of the rest, re-evaluate, and continue (llama.cpp's context shift); otherwise stop with an error.</summary>
    public bool ContextShift { get; init; }
    /// <summary>Tokens kept at the start on a context shift (the prompt's BOS at least).</summary>
    public int KeepTokens { get; init; } = 1;
}

/// <summary>One generated token.</summary>
/// <param name="Id">Token id.</param>
/// <param name="Text">Text it completes (may be empty while a UTF-8 character is incomplete).</param>
public readonly record struct GeneratedToken(int Id, string Text);

/// <summary>Counts and timings of a generation, as llama.cpp prints them.</summary>
public sealed class GenerationStats
{
    /// <summary>Prompt tokens evaluated.</summary>
    public int PromptTokens { get; internal set; }
    /// <summary>Prompt tokens reused from the context's cache instead of evaluated.</summary>
    public int CachedPromptTokens { get; internal set; }
    /// <summary>Tokens generated.</summary>
    public int GeneratedTokens { get; internal set; }
    /// <summary>Time spent evaluating the prompt.</summary>
    public TimeSpan PromptTime { get; internal set; }
    /// <summary>Time spent generating (evaluation + sampling).</summary>
    public TimeSpan GenerationTime { get; internal set; }
    /// <summary>Why generation stopped: eos, stop, length, context.</summary>
    public string StopReason { get; internal set; } = "";
    /// <summary>Prompt tokens per second.</summary>
    public double PromptTokensPerSecond => PromptTime.TotalSeconds > 0 ? PromptTokens / PromptTime.TotalSeconds : 0;
    /// <summary>Generated tokens per second.</summary>
    public double TokensPerSecond => GenerationTime.TotalSeconds > 0 ? GeneratedTokens / GenerationTime.TotalSeconds : 0;
}

/// <summary>
/// Generates text with a <see cref="LlamaContext"/>: tokenizes the prompt, evaluates it in batches, then samples one
/// token at a time, streaming text that never splits a UTF-8 character, honouring stop strings, EOS, the token limit,
/// cancellation and the context limit.
/// </summary>
public sealed class Generator
{
    private readonly LlamaContext _ctx;

    /// <summary>Creates a generator over <paramref name="context"/>; each generation reuses the longest cached prefix of its prompt.</summary>
    public Generator(LlamaContext context) => _ctx = context;

    /// <summary>Statistics of the last generation.</summary>
    public GenerationStats LastStats { get; private set; } = new();

    /// <summary>Prompt ids of the last generation (BOS included when added).</summary>
    public IReadOnlyList<int> LastPromptIds { get; private set; } = [];

    /// <summary>Tokenizes <paramref name="prompt"/> as this generator would.</summary>
    public int[] Tokenize(string prompt, GenerationParams p) => _ctx.Model.Tokenizer.Encode(prompt, addSpecial: p.AddBos, parseSpecial: p.ParseSpecial);

    /// <summary>Generates from a text prompt.</summary>
    /// <exception cref="ContextFullException">The prompt does not fit in the context.</exception>
    public IAsyncEnumerable<GeneratedToken> GenerateAsync(string prompt, GenerationParams p, CancellationToken cancellationToken = default) =>
        GenerateAsync(Tokenize(prompt, p), p, cancellationToken);

    /// <summary>Generates from prompt token ids.</summary>
    /// <exception cref="ContextFullException">The prompt does not fit in the context.</exception>
    public async IAsyncEnumerable<GeneratedToken> GenerateAsync(int[] promptIds, GenerationParams p, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (promptIds.Length == 0)
        {
            throw new ArgumentException("The prompt is empty and no BOS token is added: there is nothing to continue from.");
        }
        if (p.MaxTokens < -1)
        {
            throw new ArgumentException($"MaxTokens must be -1 (unlimited) or non-negative, not {p.MaxTokens}.");
        }
        Tokenizer tok = _ctx.Model.Tokenizer;
        var sampler = new Sampler(p.Sampling, _ctx.Model.HParams.NVocab);
        var stats = new GenerationStats { PromptTokens = promptIds.Length };
        LastStats = stats;
        LastPromptIds = promptIds;
        if (promptIds.Length > _ctx.Size)
        {
            throw new ContextFullException(promptIds.Length, _ctx.Size);
        }

        // Reuse the cached prefix the new prompt shares with what the context already holds (chat turns, retries);
        // at least the last prompt token is evaluated so its logits are fresh.
        int common = 0;
        IReadOnlyList<int> cached = _ctx.Tokens;
        while (common < cached.Count && common < promptIds.Length - 1 && cached[common] == promptIds[common])
        {
            common++;
        }
        _ctx.Truncate(common);
        var sw = Stopwatch.StartNew();
        _ctx.Decode(promptIds.AsSpan(common));
        stats.PromptTime = sw.Elapsed;
        stats.PromptTokens = promptIds.Length - common;
        stats.CachedPromptTokens = common;
        foreach (int id in promptIds)
        {
            sampler.Accept(id);
        }
        await Task.Yield();

        StreamingDetokenizer detok = tok.CreateStreamingDetokenizer(skipSpecial: true);
        var text = new System.Text.StringBuilder();
        int emitted = 0; // chars of `text` already returned
        int maxStop = p.Stop.Count == 0 ? 0 : p.Stop.Max(s => s.Length);
        sw.Restart();
        int n = 0;
        while (p.MaxTokens < 0 || n < p.MaxTokens)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int id = sampler.Sample(_ctx.Logits);
            sampler.Accept(id);
            n++;
            stats.GeneratedTokens = n;
            if (p.StopAtEos && id == tok.EosId)
            {
                stats.StopReason = "eos";
                break;
            }
            text.Append(detok.Push(id));
            // Hold back text that could still become a stop string.
            int stopAt = FindStop(text, p.Stop, emitted);
            if (stopAt >= 0)
            {
                text.Length = stopAt;
                if (text.Length > emitted)
                {
                    yield return new GeneratedToken(id, text.ToString(emitted, text.Length - emitted));
                }
                stats.StopReason = "stop";
                break;
            }
            int safe = Math.Max(emitted, text.Length - Math.Max(0, maxStop - 1));
            yield return new GeneratedToken(id, text.ToString(emitted, safe - emitted));
            emitted = safe;

            if (p.MaxTokens >= 0 && n >= p.MaxTokens)
            {
                stats.StopReason = "length";
                break;
            }
            if (_ctx.Position >= _ctx.Size)
            {
                if (!p.ContextShift)
                {
                    stats.StopReason = "context";
                    break;
                }
                Shift(p.KeepTokens);
            }
            _ctx.Decode([id]);
            stats.GenerationTime = sw.Elapsed;
        }
        stats.GenerationTime = sw.Elapsed;
        if (stats.StopReason.Length == 0)
        {
            stats.StopReason = "length";
        }
        if (stats.StopReason != "stop")
        {
            text.Append(detok.Flush());
            if (text.Length > emitted)
            {
                yield return new GeneratedToken(-1, text.ToString(emitted, text.Length - emitted));
            }
        }
    }

    // Only the text not yet returned (plus the overlap a stop string could start in) is searched, so each token costs
    // O(longest stop string), not O(everything generated so far).
    private static int FindStop(System.Text.StringBuilder text, IReadOnlyList<string> stops, int from)
    {
        int maxLen = 0;
        foreach (string stop in stops)
        {
            maxLen = Math.Max(maxLen, stop.Length);
        }
        if (maxLen == 0)
        {
            return -1;
        }
        int start = Math.Max(0, from - maxLen + 1);
        string window = text.ToString(start, text.Length - start);
        int best = -1;
        foreach (string stop in stops)
        {
            if (stop.Length == 0)
            {
                continue;
            }
            int k = window.IndexOf(stop, StringComparison.Ordinal);
            if (k >= 0 && (best < 0 || k < best))
            {
                best = k;
            }
        }
        return best < 0 ? -1 : start + best;
    }

    // Context shift: keep the first `keep` tokens and the newer half of the rest, then re-evaluate them.
    private void Shift(int keep)
    {
        int[] history = _ctx.Tokens.ToArray();
        keep = Math.Clamp(keep, 0, history.Length);
        int rest = history.Length - keep;
        int drop = rest / 2;
        int[] kept = history[..keep].Concat(history[(keep + drop)..]).ToArray();
        _ctx.Clear();
        _ctx.Decode(kept);
    }
}
