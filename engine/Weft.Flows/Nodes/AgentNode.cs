using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Weft.Search.Collections;

namespace Weft.Flows;

/// <summary>A tool the agent node can call (built in: <c>calculator</c>, <c>retrieve</c>; hosts add their own).</summary>
public interface IAgentTool
{
    /// <summary>Name the model writes after <c>Action:</c>.</summary>
    string Name { get; }

    /// <summary>One line shown to the model.</summary>
    string Description { get; }

    /// <summary>Runs the tool on the model's action input; the result becomes the observation.</summary>
    Task<string> InvokeAsync(string input, NodeContext context);
}

/// <summary>A tool from a name, description and function.</summary>
public sealed class DelegateTool(string name, string description, Func<string, NodeContext, Task<string>> run) : IAgentTool
{
    /// <inheritdoc/>
    public string Name { get; } = name;

    /// <inheritdoc/>
    public string Description { get; } = description;

    /// <inheritdoc/>
    public Task<string> InvokeAsync(string input, NodeContext context) => run(input, context);
}

/// <summary>Arithmetic on doubles: + - * / % ^, parentheses, unary minus, sqrt/abs/ln/log/exp/min/max/round/floor/ceil, pi and e.</summary>
public static class Calculator
{
    /// <summary>Evaluates an expression.</summary>
    /// <exception cref="FormatException">A syntax error, with its position.</exception>
    public static double Evaluate(string expression)
    {
        var p = new Parser(expression);
        double v = p.Expr();
        p.SkipWs();
        if (p.Pos != expression.Length)
        {
            throw new FormatException($"Unexpected '{expression[p.Pos]}' at position {p.Pos} in '{expression}'.");
        }
        return v;
    }

    private sealed class Parser(string s)
    {
        public int Pos;

        public void SkipWs()
        {
            while (Pos < s.Length && char.IsWhiteSpace(s[Pos]))
            {
                Pos++;
            }
        }

        private bool Eat(char c)
        {
            SkipWs();
            if (Pos < s.Length && s[Pos] == c)
            {
                Pos++;
                return true;
            }
            return false;
        }

        public double Expr()
        {
            double v = Term();
            while (true)
            {
                if (Eat('+')) v += Term();
                else if (Eat('-')) v -= Term();
                else return v;
            }
        }

        private double Term()
        {
            double v = Power();
            while (true)
            {
                if (Eat('*')) v *= Power();
                else if (Eat('/')) v /= Power();
                else if (Eat('%')) v %= Power();
                else return v;
            }
        }

        private double Power()
        {
            double b = Unary();
            return Eat('^') ? Math.Pow(b, Power()) : b;
        }

        private double Unary() => Eat('-') ? -Unary() : Eat('+') ? Unary() : Primary();

        private double Primary()
        {
            SkipWs();
            if (Eat('('))
            {
                double v = Expr();
                Expect(')');
                return v;
            }
            int start = Pos;
            if (Pos < s.Length && (char.IsDigit(s[Pos]) || s[Pos] == '.'))
            {
                while (Pos < s.Length && (char.IsDigit(s[Pos]) || s[Pos] == '.' || s[Pos] == 'e' || s[Pos] == 'E' ||
                    ((s[Pos] == '-' || s[Pos] == '+') && (s[Pos - 1] == 'e' || s[Pos - 1] == 'E'))))
                {
                    Pos++;
                }
                return double.TryParse(s.AsSpan(start, Pos - start), NumberStyles.Float, CultureInfo.InvariantCulture, out double d)
                    ? d : throw new FormatException($"Bad number '{s[start..Pos]}' at position {start}.");
            }
            while (Pos < s.Length && char.IsLetter(s[Pos]))
            {
                Pos++;
            }
            string name = s[start..Pos].ToLowerInvariant();
            if (name.Length == 0)
            {
                throw new FormatException(Pos < s.Length ? $"Unexpected '{s[Pos]}' at position {Pos} in '{s}'." : $"Unexpected end of '{s}'.");
            }
            if (name == "pi") return Math.PI;
            if (name == "e") return Math.E;
            Expect('(');
            var args = new List<double> { Expr() };
            while (Eat(','))
            {
                args.Add(Expr());
            }
            Expect(')');
            return (name, args.Count) switch
            {
                ("sqrt", 1) => Math.Sqrt(args[0]),
                ("abs", 1) => Math.Abs(args[0]),
                ("ln", 1) => Math.Log(args[0]),
                ("log", 1) => Math.Log10(args[0]),
                ("exp", 1) => Math.Exp(args[0]),
                ("floor", 1) => Math.Floor(args[0]),
                ("ceil", 1) => Math.Ceiling(args[0]),
                ("round", 1) => Math.Round(args[0], MidpointRounding.AwayFromZero),
                ("min", _) => args.Min(),
                ("max", _) => args.Max(),
                _ => throw new FormatException($"Unknown function {name} with {args.Count} argument(s) at position {start}."),
            };
        }

        private void Expect(char c)
        {
            if (!Eat(c))
            {
                throw new FormatException($"Expected '{c}' at position {Pos} in '{s}'.");
            }
        }
    }
}

/// <summary>
/// A ReAct agent: the model writes <c>Thought:</c>, then <c>Action: tool[input]</c> (or <c>Action: tool</c> and
/// <c>Action Input: input</c>); the node runs the tool and appends <c>Observation: result</c>, until the model writes
/// <c>Final Answer: ...</c> or <c>max_steps</c> actions have run.
/// </summary>
public sealed partial class AgentNode : IFlowNode
{
    [GeneratedRegex(@"Action:\s*([A-Za-z0-9_\-]+)\s*(?:\[(.*?)\]|\r?\n\s*Action Input:\s*(.*))", RegexOptions.Singleline)]
    private static partial Regex ActionRegex();

    [GeneratedRegex(@"Final Answer:\s*(.*)", RegexOptions.Singleline)]
    private static partial Regex FinalRegex();

    /// <inheritdoc/>
    public NodeSchema Schema { get; } = new()
    {
        Name = "agent", DisplayName = "Agent (ReAct)", Category = "llm", Cacheable = false,
        Description = "Thought/Action/Observation loop with tools: calculator, retrieve (over the 'collection' parameter) and host-registered tools.",
        Inputs = [Nodes.S.In("question", PortTypes.String)],
        Params = [.. Nodes.LlmNodes.GenerationParams(),
            Nodes.S.List("tools", "Tools to offer (default: calculator, plus retrieve when 'collection' is set, plus every host tool)."),
            Nodes.S.Int("max_steps", 5, 1, 50, "Most tool calls before giving up."),
            Nodes.S.Str("collection", "", "Collection directory or registered name for the retrieve tool."),
            Nodes.S.Int("top_k", 3, 1, 100, "Passages the retrieve tool returns.")],
        Outputs = [Nodes.S.Out("answer", PortTypes.String), Nodes.S.Out("steps", PortTypes.Number), Nodes.S.Out("transcript", PortTypes.String), Nodes.S.Out("finished", PortTypes.Bool)],
    };

    /// <inheritdoc/>
    public async ValueTask<NodeOutputs> ExecuteAsync(NodeContext c)
    {
        var tools = new Dictionary<string, IAgentTool>(StringComparer.OrdinalIgnoreCase);
        var calculator = new DelegateTool("calculator", "evaluates an arithmetic expression, e.g. 2*(3+4)", (s, _) =>
            Task.FromResult(Calculator.Evaluate(s).ToString("R", CultureInfo.InvariantCulture)));
        string collection = c.Param("collection");
        var retrieve = new DelegateTool("retrieve", "searches the documents and returns the best passages", (q, ctx) =>
        {
            DocumentCollection col = ctx.Services.GetCollection(FlowEnvironment.ResolvePath(collection, ctx.BaseDirectory));
            return Task.FromResult(string.Join("\n", col.Search(q, ctx.Int("top_k"), SearchMode.Hybrid).Select(h => h.Chunk.Text.Trim())));
        });
        List<string> wanted = c.StringList("tools");
        var available = new List<IAgentTool> { calculator };
        if (collection.Length > 0)
        {
            available.Add(retrieve);
        }
        available.AddRange(c.Services.Tools);
        if (wanted.Count == 0)
        {
            foreach (IAgentTool t in available)
            {
                tools[t.Name] = t;
            }
        }
        else
        {
            foreach (string w in wanted)
            {
                IAgentTool t = w.Equals("retrieve", StringComparison.OrdinalIgnoreCase) ? retrieve
                    : available.FirstOrDefault(a => a.Name.Equals(w, StringComparison.OrdinalIgnoreCase))
                    ?? throw new FlowExecutionException(c.NodeId, $"unknown tool '{w}' (available: {string.Join(", ", available.Select(a => a.Name))})");
                tools[t.Name] = t;
            }
        }

        var sb = new StringBuilder();
        sb.Append("Answer the question. You can use these tools:\n");
        foreach (IAgentTool t in tools.Values)
        {
            sb.Append(t.Name).Append(": ").Append(t.Description).Append('\n');
        }
        sb.Append("Use this format:\nThought: what to do\nAction: tool[input]\nObservation: the result\n... (repeat)\nFinal Answer: the answer\n\n");
        sb.Append("Question: ").Append(c.GetString("question")).Append('\n');
        string header = sb.ToString();
        var transcript = new StringBuilder();
        Weft.Models.Llama.GenerationParams gp = Nodes.LlmNodes.ToGeneration(c, ["Observation:"]);
        ITextGenerator g = Nodes.LlmNodes.Generator(c);
        int maxSteps = c.Int("max_steps");
        int steps = 0;
        string last = "";
        while (true)
        {
            TextGenerationResult r = await Nodes.LlmNodes.GenerateAsync(c, g, header + transcript + "Thought:", gp).ConfigureAwait(false);
            last = r.Text;
            transcript.Append("Thought:").Append(r.Text.TrimEnd()).Append('\n');
            if (FinalRegex().Match(r.Text) is { Success: true } fin)
            {
                return Nodes.S.O(("answer", fin.Groups[1].Value.Trim()), ("steps", (double)steps), ("transcript", transcript.ToString()), ("finished", true));
            }
            Match act = ActionRegex().Match(r.Text);
            if (!act.Success || steps >= maxSteps)
            {
                return Nodes.S.O(("answer", last.Trim()), ("steps", (double)steps), ("transcript", transcript.ToString()), ("finished", false));
            }
            steps++;
            string name = act.Groups[1].Value;
            string input = (act.Groups[2].Success ? act.Groups[2].Value : act.Groups[3].Value).Trim();
            string observation;
            if (!tools.TryGetValue(name, out IAgentTool? tool))
            {
                observation = $"error: unknown tool '{name}' (tools: {string.Join(", ", tools.Keys)})";
            }
            else
            {
                try
                {
                    observation = await tool.InvokeAsync(input, c).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    observation = "error: " + e.Message;
                }
            }
            transcript.Append("Observation: ").Append(observation).Append('\n');
            c.EmitText($"\n[{name}({input}) -> {observation}]\n");
        }
    }
}
