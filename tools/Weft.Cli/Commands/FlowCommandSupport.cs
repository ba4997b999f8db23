using System.Text.Json;
using Weft.Core;
using Weft.Flows;

namespace Weft.Cli.Commands;

/// <summary>Shared pieces of the flow and batch verbs.</summary>
internal static class FlowCommandSupport
{
    /// <summary>The node registry as a host builds it: the built-in node module registered on an engine.</summary>
    public static NodeRegistry Registry()
    {
        var b = new EngineBuilder();
        b.AddModule<FlowNodesModule>();
        return NodeRegistry.FromEngine(b.Build());
    }

    /// <summary>Loads and validates a flow; prints per-node errors and returns null when invalid.</summary>
    public static FlowDocument? LoadValid(string path, NodeRegistry registry)
    {
        FlowDocument flow = FlowDocument.Load(path);
        List<FlowError> errors = FlowValidator.Validate(flow, registry);
        if (errors.Count == 0)
        {
            return flow;
        }
        Console.Error.WriteLine($"{path}: {errors.Count} error(s)");
        foreach (FlowError e in errors)
        {
            Console.Error.WriteLine("  " + e);
        }
        return null;
    }

    /// <summary>Parses NAME=EXPR pairs.</summary>
    public static Dictionary<string, string> Pairs(IEnumerable<string> items, string option)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string s in items)
        {
            int eq = s.IndexOf('=');
            if (eq <= 0)
            {
                throw new CliUsageException($"{option} takes NAME=VALUE, not '{s}'");
            }
            d[s[..eq]] = s[(eq + 1)..];
        }
        return d;
    }

    /// <summary>A command-line value for a flow input: raw text for string inputs, JSON otherwise (falling back to text).</summary>
    public static object? InputValue(FlowDocument flow, string name, string text)
    {
        if (!flow.Inputs.TryGetValue(name, out FlowInputSpec? spec) || spec.Type == PortTypes.String)
        {
            return text;
        }
        try
        {
            using JsonDocument doc = JsonDocument.Parse(text);
            return FlowValue.FromJson(doc.RootElement);
        }
        catch (JsonException)
        {
            return text;
        }
    }
}
