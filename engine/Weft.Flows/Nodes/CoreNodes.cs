using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Weft.Models.Templates;

namespace Weft.Flows.Nodes;

/// <summary>Text, constants, templates, JSON, regex, branching and map nodes.</summary>
public static class CoreNodes
{
    /// <summary>All nodes of this group.</summary>
    public static IEnumerable<IFlowNode> All()
    {
        yield return new DelegateNode(new NodeSchema
        {
            Name = "text", DisplayName = "Text", Category = "io", Description = "A constant text (with ${env.NAME} substituted).",
            Params = [S.Str("text", "", "The text.")], Outputs = [S.Out("text", PortTypes.String)],
        }, c => S.O(("text", c.Param("text"))));

        yield return new DelegateNode(new NodeSchema
        {
            Name = "constant", DisplayName = "Constant", Category = "io", Description = "A constant JSON value (number, list, object...).",
            Params = [S.Json("value", "The value.", required: true)], Outputs = [S.Out("value", PortTypes.Json)],
        }, c => S.O(("value", c.RawParam("value") is JsonElement e ? FlowValue.FromJson(e) : null)));

        yield return new DelegateNode(new NodeSchema
        {
            Name = "output", DisplayName = "Output", Category = "io", IsOutput = true, Description = "Shows a value (passes it through).",
            Inputs = [S.In("value", PortTypes.Any)], Outputs = [S.Out("value", PortTypes.Any)],
        }, c => S.O(("value", c.Get("value"))));

        yield return new DelegateNode(new NodeSchema
        {
            Name = "concat", DisplayName = "Concatenate", Category = "text", ExtraInputs = true,
            Description = "Joins the texts of its inputs (in input-name order) with a separator.",
            Params = [S.Str("separator", "", "Put between the parts.")], Outputs = [S.Out("text", PortTypes.String)],
        }, c => S.O(("text", string.Join(c.Param("separator"), c.Inputs.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => FlowValue.ToText(kv.Value))))));

        yield return new DelegateNode(new NodeSchema
        {
            Name = "prompt_template", DisplayName = "Prompt template", Category = "text", ExtraInputs = true,
            Description = "Renders a Jinja template; every connected input is a template variable (lists and JSON objects keep their structure).",
            Params = [S.Str("template", null, "Jinja source, e.g. 'Question: {{ question }}'.", required: true),
                S.Bool("trim_blocks", false, "Drop the first newline after a block tag.")],
            Outputs = [S.Out("text", PortTypes.String)],
        }, c =>
        {
            JinjaTemplate t = JinjaTemplate.Parse(c.Param("template"), trimBlocks: c.Bool("trim_blocks"), lstripBlocks: c.Bool("trim_blocks"));
            return S.O(("text", t.Render(c.Inputs.ToDictionary(kv => kv.Key, kv => kv.Value is float[] f ? FlowValue.ToList(f) : kv.Value))));
        });

        yield return new DelegateNode(new NodeSchema
        {
            Name = "json_parse", DisplayName = "JSON parse", Category = "json",
            Description = "Parses JSON text (the first {...} or [...] block when the text has prose around it).",
            Inputs = [S.In("text", PortTypes.String)], Params = [S.Bool("lenient", true, "Look for the first JSON object or array inside the text.")],
            Outputs = [S.Out("value", PortTypes.Json)],
        }, c => S.O(("value", JsonNodesHelper.Parse(c.GetString("text"), c.Bool("lenient"), c.NodeId))));

        yield return new DelegateNode(new NodeSchema
        {
            Name = "json_extract", DisplayName = "JSON extract", Category = "json",
            Description = "Reads a path from a JSON value: 'a.b[0].c' (keys, [index], [-1] from the end).",
            Inputs = [S.In("value", PortTypes.Json)], Params = [S.Str("path", null, "Path such as 'answer' or 'items[0].name'.", required: true)],
            Outputs = [S.Out("value", PortTypes.Json), S.Out("found", PortTypes.Bool)],
        }, c =>
        {
            bool found = JsonNodesHelper.TryExtract(c.Get("value"), c.Param("path"), out object? v);
            return S.O(("value", v), ("found", found));
        });

        yield return new DelegateNode(new NodeSchema
        {
            Name = "regex_extract", DisplayName = "Regex extract", Category = "text",
            Description = "First match (or a capture group) of a .NET regular expression, and all matches.",
            Inputs = [S.In("text", PortTypes.String)],
            Params = [S.Str("pattern", null, "Regular expression.", required: true), S.Int("group", 0, 0, 99, "Capture group to return (0: whole match)."),
                S.Bool("ignore_case", false, "Case-insensitive matching.")],
            Outputs = [S.Out("match", PortTypes.String), S.Out("matches", PortTypes.List), S.Out("found", PortTypes.Bool)],
        }, c =>
        {
            var re = new Regex(c.Param("pattern"), (c.Bool("ignore_case") ? RegexOptions.IgnoreCase : RegexOptions.None) | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(2));
            int g = c.Int("group");
            var all = re.Matches(c.GetString("text")).Select(m => (object?)m.Groups[g].Value).ToList();
            return S.O(("match", all.Count > 0 ? all[0] : ""), ("matches", all), ("found", all.Count > 0));
        });

        yield return new DelegateNode(new NodeSchema
        {
            Name = "condition", DisplayName = "Condition / switch", Category = "control",
            Description = "Tests a value; 'then' carries the value when the test holds and 'else' when it does not. The other output is inactive: nodes that need it are skipped.",
            Inputs = [S.In("value", PortTypes.Any)],
            Params = [S.Enum("operator", "truthy", "Test to apply.", "truthy", "equals", "contains", "regex", "gt", "lt", "empty"),
                S.Str("operand", "", "Right-hand side for equals/contains/regex/gt/lt.")],
            Outputs = [S.Out("result", PortTypes.Bool), S.Out("then", PortTypes.Any), S.Out("else", PortTypes.Any)],
        }, c =>
        {
            object? v = c.Get("value");
            string text = FlowValue.ToText(v);
            string operand = c.Param("operand");
            bool r = c.Param("operator") switch
            {
                "truthy" => FlowValue.ToBool(v),
                "equals" => text == operand,
                "contains" => text.Contains(operand, StringComparison.Ordinal),
                "regex" => Regex.IsMatch(text, operand, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(2)),
                "gt" => FlowValue.ToNumber(v) > double.Parse(operand, CultureInfo.InvariantCulture),
                "lt" => FlowValue.ToNumber(v) < double.Parse(operand, CultureInfo.InvariantCulture),
                "empty" => text.Length == 0 || (v is List<object?> l && l.Count == 0),
                string op => throw new FlowExecutionException(c.NodeId, $"unknown operator '{op}'"),
            };
            return S.O(("result", r), ("then", r ? v : Skipped.Value), ("else", r ? Skipped.Value : v));
        });

        yield return new DelegateNode(new NodeSchema
        {
            Name = "coalesce", DisplayName = "First active", Category = "control", ExtraInputs = true, JoinsBranches = true,
            Description = "The first active input (in input-name order): joins the branches of a condition.",
            Outputs = [S.Out("value", PortTypes.Any)],
        }, c => S.O(("value", c.Inputs.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value).FirstOrDefault(v => v is not null))));

        yield return new MapNode();
    }
}

/// <summary>JSON helpers for the JSON nodes.</summary>
internal static class JsonNodesHelper
{
    public static object? Parse(string text, bool lenient, string nodeId)
    {
        string t = text.Trim();
        if (lenient)
        {
            int start = t.IndexOfAny(['{', '[']);
            if (start >= 0)
            {
                char close = t[start] == '{' ? '}' : ']';
                int end = t.LastIndexOf(close);
                if (end > start)
                {
                    t = t[start..(end + 1)];
                }
            }
        }
        try
        {
            using JsonDocument doc = JsonDocument.Parse(t);
            return FlowValue.FromJson(doc.RootElement);
        }
        catch (JsonException e)
        {
            throw new FlowExecutionException(nodeId, $"the text is not valid JSON ({e.Message})");
        }
    }

    public static bool TryExtract(object? value, string path, out object? result)
    {
        result = value;
        foreach (Match m in Regex.Matches(path, @"([^.\[\]]+)|\[(-?\d+)\]"))
        {
            if (m.Groups[1].Success)
            {
                if (result is IDictionary<string, object?> d && d.TryGetValue(m.Groups[1].Value, out object? next))
                {
                    result = next;
                    continue;
                }
            }
            else if (result is List<object?> l)
            {
                int i = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
                if (i < 0)
                {
                    i += l.Count;
                }
                if (i >= 0 && i < l.Count)
                {
                    result = l[i];
                    continue;
                }
            }
            result = null;
            return false;
        }
        return true;
    }
}
