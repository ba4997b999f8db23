using System.Text.RegularExpressions;
using Weft.Flows.Evaluation;

namespace Weft.Flows.Nodes;

/// <summary>Evaluator nodes. Each outputs a number named <c>score</c> (or several), which the batch runner aggregates.</summary>
public static partial class EvalNodes
{
    [GeneratedRegex(@"\b(A|B|tie)\b", RegexOptions.IgnoreCase)]
    private static partial Regex VerdictRegex();

    /// <summary>All nodes of this group.</summary>
    public static IEnumerable<IFlowNode> All()
    {
        PortSpec[] predRef = [S.In("prediction", PortTypes.String), S.In("reference", PortTypes.String)];

        yield return new DelegateNode(new NodeSchema
        {
            Name = "exact_match", DisplayName = "Exact match", Category = "eval", Description = "1 when prediction equals reference (SQuAD-normalized unless normalize is false), else 0.",
            Inputs = predRef, Params = [S.Bool("normalize", true, "Lower-case, drop punctuation and articles, collapse spaces.")], Outputs = [S.Out("score", PortTypes.Number)],
        }, c => S.O(("score", TextMetrics.ExactMatch(c.GetString("prediction"), c.GetString("reference"), c.Bool("normalize")))));

        yield return new DelegateNode(new NodeSchema
        {
            Name = "token_f1", DisplayName = "Token F1", Category = "eval", Description = "SQuAD token-overlap F1 of prediction and reference.",
            Inputs = predRef, Outputs = [S.Out("score", PortTypes.Number)],
        }, c => S.O(("score", TextMetrics.TokenF1(c.GetString("prediction"), c.GetString("reference")))));

        yield return new DelegateNode(new NodeSchema
        {
            Name = "bleu", DisplayName = "BLEU", Category = "eval", Description = "Sentence BLEU (whitespace tokens) against the reference and any extra references.",
            Inputs = [.. predRef, S.Opt("references", PortTypes.List, "More references.")],
            Params = [S.Int("max_n", 4, 1, 8, "Highest n-gram order."), S.Bool("smooth", false, "Add-one smoothing for n > 1."), S.Bool("lowercase", false, "Compare lower-cased.")],
            Outputs = [S.Out("score", PortTypes.Number)],
        }, c =>
        {
            Func<string, IReadOnlyList<string>> tok = s => (c.Bool("lowercase") ? s.ToLowerInvariant() : s).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            var refs = new List<IReadOnlyList<string>> { tok(c.GetString("reference")) };
            refs.AddRange(c.GetList("references").Select(r => tok(FlowValue.ToText(r))));
            return S.O(("score", TextMetrics.Bleu(tok(c.GetString("prediction")), refs, c.Int("max_n"), c.Bool("smooth"))));
        });

        yield return new DelegateNode(new NodeSchema
        {
            Name = "rouge", DisplayName = "ROUGE", Category = "eval", Description = "ROUGE-1, ROUGE-2 and ROUGE-L (lower-cased word tokens).",
            Inputs = predRef, Params = [S.Enum("measure", "f1", "Which value to output.", "f1", "recall", "precision")],
            Outputs = [S.Out("rouge1", PortTypes.Number), S.Out("rouge2", PortTypes.Number), S.Out("rougeL", PortTypes.Number)],
        }, c =>
        {
            string[] p = TextMetrics.RougeTokens(c.GetString("prediction")), r = TextMetrics.RougeTokens(c.GetString("reference"));
            string m = c.Param("measure");
            double Pick(RougeScore s) => m == "recall" ? s.Recall : m == "precision" ? s.Precision : s.F1;
            return S.O(("rouge1", Pick(TextMetrics.RougeN(p, r, 1))), ("rouge2", Pick(TextMetrics.RougeN(p, r, 2))), ("rougeL", Pick(TextMetrics.RougeL(p, r))));
        });

        yield return new DelegateNode(new NodeSchema
        {
            Name = "cosine_similarity", DisplayName = "Cosine similarity", Category = "eval",
            Description = "Cosine similarity of two vectors, or of the embeddings of two texts.",
            Inputs = [S.In("a", PortTypes.Any), S.In("b", PortTypes.Any)],
            Params = [S.Str("embedder", "hashed-256", "Embedder for text inputs.")], Outputs = [S.Out("score", PortTypes.Number)],
        }, c =>
        {
            float[] V(string port) => c.Get(port) is float[] f ? f : SearchNodes.Embed(c, c.GetString(port));
            return S.O(("score", TextMetrics.Cosine(V("a"), V("b"))));
        });

        yield return new DelegateNode(new NodeSchema
        {
            Name = "perplexity", DisplayName = "Perplexity", Category = "eval",
            Description = "Perplexity of 'text' under a Weft model, each token predicted from BOS, the optional 'context' and the text before it.",
            Inputs = [S.In("text", PortTypes.String), S.Opt("context", PortTypes.String)],
            Params = [S.Str("model", null, "GGUF model path.", required: true)],
            Outputs = [S.Out("ppl", PortTypes.Number), S.Out("tokens", PortTypes.Number)],
        }, c =>
        {
            if (LlmNodes.Generator(c) is not LlamaTextGenerator g)
            {
                throw new FlowExecutionException(c.NodeId, "perplexity needs a Weft model file, not a registered generator");
            }
            (double ppl, int n) = PerplexityEvaluator.Compute(g, c.GetString("context"), c.GetString("text"), c.CancellationToken);
            c.AddUsage(g.Name, n + 1, 0);
            return S.O(("ppl", ppl), ("tokens", (double)n));
        });

        yield return new DelegateNode(new NodeSchema
        {
            Name = "llm_judge", DisplayName = "LLM judge (pairwise)", Category = "eval",
            Description = "Asks a model which of two answers is better, in both orders (A/B then B/A) to cancel positional bias; score_a is 1 for a win, 0.5 for a tie or disagreement, 0 for a loss.",
            Inputs = [S.In("question", PortTypes.String), S.In("answer_a", PortTypes.String), S.In("answer_b", PortTypes.String)],
            Params = [.. LlmNodes.GenerationParams(), S.Str("template",
                "Question: {{ question }}\nAnswer A: {{ a }}\nAnswer B: {{ b }}\nWhich answer is better? Reply with A, B or tie.\nVerdict:", "Judge prompt (variables question, a, b).")],
            Outputs = [S.Out("score_a", PortTypes.Number), S.Out("winner", PortTypes.String), S.Out("consistent", PortTypes.Bool), S.Out("verdicts", PortTypes.List)],
        }, async c =>
        {
            var t = Weft.Models.Templates.JinjaTemplate.Parse(c.Param("template"));
            ITextGenerator g = LlmNodes.Generator(c);
            var gp = LlmNodes.ToGeneration(c);
            string q = c.GetString("question"), a = c.GetString("answer_a"), b = c.GetString("answer_b");
            async Task<string> Judge(string x, string y)
            {
                string prompt = t.Render(new Dictionary<string, object?> { ["question"] = q, ["a"] = x, ["b"] = y });
                TextGenerationResult r = await LlmNodes.GenerateAsync(c, g, prompt, gp).ConfigureAwait(false);
                Match m = VerdictRegex().Match(r.Text);
                return m.Success ? m.Groups[1].Value.ToLowerInvariant() : "tie";
            }
            string first = await Judge(a, b).ConfigureAwait(false);   // "a" means answer_a wins
            string second = await Judge(b, a).ConfigureAwait(false);  // "b" means answer_a wins
            double s1 = first == "a" ? 1 : first == "b" ? 0 : 0.5;
            double s2 = second == "b" ? 1 : second == "a" ? 0 : 0.5;
            double score = (s1 + s2) / 2;
            string winner = score > 0.5 ? "a" : score < 0.5 ? "b" : "tie";
            return S.O(("score_a", score), ("winner", winner), ("consistent", s1 == s2), ("verdicts", new List<object?> { first, second }));
        });
    }
}
