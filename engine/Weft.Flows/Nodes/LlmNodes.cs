using System.Text;
using Weft.Models.Llama;
using Weft.Models.Sampling;
using Weft.Models.Templates;

namespace Weft.Flows.Nodes;

/// <summary>LLM completion and chat nodes.</summary>
public static class LlmNodes
{
    /// <summary>Parameters shared by the LLM nodes.</summary>
    internal static ParamSpec[] GenerationParams() =>
    [
        S.Str("model", null, "GGUF model path (e.g. ${env.WEFT_ASSETS}/models/stories260K.gguf) or a generator registered with FlowServices.AddGenerator.", required: true),
        S.Int("max_tokens", 128, -1, 1 << 20, "Tokens to generate (-1: until EOS or the context is full)."),
        S.Num("temperature", 0, 0, 10, "0 is greedy (deterministic)."),
        S.Int("top_k", 40, 0, 1 << 20, "Top-k truncation (0: off)."),
        S.Num("top_p", 0.95, 0, 1, "Nucleus truncation."),
        S.Num("min_p", 0.05, 0, 1, "Min-p truncation."),
        S.Num("repeat_penalty", 1, 0, 10, "Repetition penalty (1: off)."),
        S.Int("seed", 42, 0, uint.MaxValue - 1.0, "Sampling seed."),
        S.List("stop", "Stop strings (not included in the output)."),
    ];

    internal static GenerationParams ToGeneration(NodeContext c, IReadOnlyList<string>? extraStop = null)
    {
        var stop = c.StringList("stop");
        if (extraStop is not null)
        {
            stop.AddRange(extraStop);
        }
        return new GenerationParams
        {
            MaxTokens = c.Int("max_tokens"),
            Stop = stop,
            Sampling = new SamplingParams
            {
                Temperature = (float)c.Number("temperature"),
                TopK = c.Int("top_k"),
                TopP = (float)c.Number("top_p"),
                MinP = (float)c.Number("min_p"),
                RepeatPenalty = (float)c.Number("repeat_penalty"),
                Seed = (uint)c.Number("seed"),
            },
        };
    }

    /// <summary>Model reference of a node: a registered generator name as is, else a resolved path.</summary>
    internal static ITextGenerator Generator(NodeContext c)
    {
        string model = c.Param("model");
        return c.Services.GetGenerator(model.Contains('/') || model.Contains('\\') || model.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) || model.EndsWith(".bin", StringComparison.OrdinalIgnoreCase)
            ? c.PathParam("model") : model);
    }

    /// <summary>Generates with streaming and usage accounting.</summary>
    internal static async Task<TextGenerationResult> GenerateAsync(NodeContext c, ITextGenerator g, string prompt, GenerationParams p)
    {
        TextGenerationResult r = await g.GenerateAsync(prompt, new TextGenerationOptions { Generation = p }, c.EmitText, c.CancellationToken).ConfigureAwait(false);
        c.AddUsage(g.Name, r.PromptTokens, r.CompletionTokens);
        return r;
    }

    /// <summary>All nodes of this group.</summary>
    public static IEnumerable<IFlowNode> All()
    {
        yield return new DelegateNode(new NodeSchema
        {
            Name = "llm_completion", DisplayName = "LLM completion", Category = "llm",
            Description = "Continues a prompt with a Weft model (loaded once, shared by all nodes and lines); tokens stream out as text events.",
            Inputs = [S.In("prompt", PortTypes.String)], Params = GenerationParams(),
            Outputs = [S.Out("text", PortTypes.String), S.Out("tokens", PortTypes.Number), S.Out("stop_reason", PortTypes.String)],
        }, async c =>
        {
            TextGenerationResult r = await GenerateAsync(c, Generator(c), c.GetString("prompt"), ToGeneration(c)).ConfigureAwait(false);
            return S.O(("text", r.Text), ("tokens", (double)r.CompletionTokens), ("stop_reason", r.StopReason));
        });

        yield return new DelegateNode(new NodeSchema
        {
            Name = "llm_chat", DisplayName = "LLM chat", Category = "llm",
            Description = "Formats messages with the model's chat template (or the 'template' parameter when the model has none) and generates the assistant reply.",
            Inputs = [S.In("user", PortTypes.String), S.Opt("system", PortTypes.String), S.Opt("history", PortTypes.List, "Earlier messages: [{role, content}].")],
            Params = [.. GenerationParams(), S.Str("template", "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}", "Chat template used when the model has none.")],
            Outputs = [S.Out("text", PortTypes.String), S.Out("prompt", PortTypes.String), S.Out("tokens", PortTypes.Number)],
        }, async c =>
        {
            var messages = new List<ChatMessage>();
            if (c.Has("system"))
            {
                messages.Add(new ChatMessage("system", c.GetString("system")));
            }
            foreach (object? h in c.GetList("history"))
            {
                if (h is Dictionary<string, object?> d)
                {
                    messages.Add(new ChatMessage(FlowValue.ToText(d.GetValueOrDefault("role")), FlowValue.ToText(d.GetValueOrDefault("content"))));
                }
            }
            messages.Add(new ChatMessage("user", c.GetString("user")));
            ITextGenerator g = Generator(c);
            ChatTemplate template = g.ChatTemplate ?? new ChatTemplate(c.Param("template"));
            string prompt = template.Render(messages, addGenerationPrompt: true);
            TextGenerationResult r = await GenerateAsync(c, g, prompt, ToGeneration(c)).ConfigureAwait(false);
            return S.O(("text", r.Text.Trim()), ("prompt", prompt), ("tokens", (double)r.CompletionTokens));
        });

        yield return new AgentNode();
    }
}

/// <summary>Perplexity of a text under a Weft model (evaluator).</summary>
internal static class PerplexityEvaluator
{
    /// <summary>
    /// exp of the mean negative log-likelihood of the tokens of <paramref name="text"/>, each predicted from everything
    /// before it (BOS, then <paramref name="context"/> when given, then the preceding text tokens).
    /// </summary>
    public static (double Ppl, int Tokens) Compute(LlamaTextGenerator g, string context, string text, CancellationToken ct)
    {
        var tok = g.Model.Tokenizer;
        int[] prefix = tok.Encode(context, addSpecial: true);
        int[] all = tok.Encode(context + text, addSpecial: true);
        int start = Math.Max(1, prefix.Length);
        // BPE may merge across the boundary; score from the first position that differs from the prefix alone.
        int common = 0;
        while (common < prefix.Length && common < all.Length && prefix[common] == all[common])
        {
            common++;
        }
        start = Math.Max(1, Math.Min(start, common));
        if (all.Length - start < 1)
        {
            throw new ArgumentException("The text to score is empty.");
        }
        LlamaContext ctx = g.Rent();
        try
        {
            if (all.Length > ctx.Size)
            {
                throw new ArgumentException($"The text is {all.Length} tokens, longer than the model context ({ctx.Size}); score shorter texts.");
            }
            ct.ThrowIfCancellationRequested();
            float[] logits = ctx.DecodeAll(all);
            int nv = g.Model.HParams.NVocab;
            double nll = 0;
            for (int i = start; i < all.Length; i++)
            {
                ReadOnlySpan<float> row = logits.AsSpan((i - 1) * nv, nv);
                float max = float.NegativeInfinity;
                foreach (float x in row)
                {
                    max = Math.Max(max, x);
                }
                double sum = 0;
                foreach (float x in row)
                {
                    sum += Math.Exp(x - max);
                }
                nll -= row[all[i]] - max - Math.Log(sum);
            }
            int n = all.Length - start;
            return (Math.Exp(nll / n), n);
        }
        finally
        {
            g.Return(ctx);
        }
    }

    /// <summary>Helper for <see cref="StringBuilder"/>-free joins.</summary>
    public static string Join(IEnumerable<string> parts) => string.Concat(parts);
}
