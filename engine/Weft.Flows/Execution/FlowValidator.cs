using System.Text.Json;
using System.Text.RegularExpressions;

namespace Weft.Flows;

/// <summary>A parsed input binding: a flow input (<c>inputs.NAME</c>) or a node output (<c>NODE.PORT</c>).</summary>
/// <param name="NodeId">Source node, or null for a flow input.</param>
/// <param name="Name">Output port, or flow input name.</param>
public readonly record struct Binding(string? NodeId, string Name)
{
    /// <summary>Parses <c>inputs.NAME</c> or <c>NODE.PORT</c>; null when malformed.</summary>
    public static Binding? Parse(string text)
    {
        int dot = text.IndexOf('.');
        if (dot <= 0 || dot == text.Length - 1)
        {
            return null;
        }
        string head = text[..dot];
        string tail = text[(dot + 1)..];
        return head == "inputs" ? new Binding(null, tail) : new Binding(head, tail);
    }
}

/// <summary>Checks a flow against a node registry and orders its nodes.</summary>
public static partial class FlowValidator
{
    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex IdRegex();

    /// <summary>
    /// Every error in the flow, per node and port: version, bad or duplicate ids, unknown node type, unknown or missing
    /// input, malformed binding, binding to an unknown node, port or flow input, port type mismatch, cycles, unknown,
    /// missing or out-of-range parameters, bad flow outputs.
    /// </summary>
    public static List<FlowError> Validate(FlowDocument flow, NodeRegistry registry)
    {
        var errors = new List<FlowError>();
        if (flow.Version != FlowDocument.CurrentVersion)
        {
            errors.Add(new FlowError(null, null, "version", $"version is {flow.Version}; this Weft reads version {FlowDocument.CurrentVersion} (add \"version\": 1)"));
        }
        foreach ((string name, FlowInputSpec spec) in flow.Inputs)
        {
            if (!PortTypes.IsKnown(spec.Type))
            {
                errors.Add(new FlowError(null, name, "bad-type", $"flow input '{name}' has unknown type '{spec.Type}' (known: {string.Join(", ", PortTypes.All)})"));
            }
        }
        var byId = new Dictionary<string, FlowNodeSpec>(StringComparer.Ordinal);
        foreach (FlowNodeSpec n in flow.Nodes)
        {
            if (!IdRegex().IsMatch(n.Id) || n.Id == "inputs")
            {
                errors.Add(new FlowError(n.Id, null, "bad-id", $"node id '{n.Id}' must be non-empty letters, digits, '_' or '-' (and not 'inputs')"));
            }
            else if (!byId.TryAdd(n.Id, n))
            {
                errors.Add(new FlowError(n.Id, null, "duplicate-id", $"node id '{n.Id}' is used more than once"));
            }
        }
        foreach (FlowNodeSpec n in flow.Nodes)
        {
            if (!registry.TryGet(n.Type, out IFlowNode node))
            {
                errors.Add(new FlowError(n.Id, null, "unknown-type", $"unknown node type '{n.Type}' (see `weft flow nodes`)"));
                continue;
            }
            NodeSchema s = node.Schema;
            if (n.Timeout < 0)
            {
                errors.Add(new FlowError(n.Id, "timeout", "bad-param", $"timeout must be >= 0 seconds, not {n.Timeout}"));
            }
            foreach (PortSpec p in s.Inputs)
            {
                if (!p.Optional && !n.Inputs.ContainsKey(p.Name))
                {
                    errors.Add(new FlowError(n.Id, p.Name, "missing-input", $"required input '{p.Name}' ({p.Type}) is not connected"));
                }
            }
            foreach ((string port, string bindingText) in n.Inputs)
            {
                PortSpec? target = s.Input(port);
                if (target is null && !s.ExtraInputs)
                {
                    errors.Add(new FlowError(n.Id, port, "unknown-input", $"'{n.Type}' has no input '{port}' (inputs: {string.Join(", ", s.Inputs.Select(i => i.Name))})"));
                    continue;
                }
                string targetType = target?.Type ?? PortTypes.Any;
                string? sourceType = CheckBinding(flow, registry, byId, n.Id, port, bindingText, errors);
                if (sourceType is not null && !PortTypes.IsAssignable(sourceType, targetType))
                {
                    errors.Add(new FlowError(n.Id, port, "type-mismatch", $"input '{port}' expects {targetType} but '{bindingText}' gives {sourceType}"));
                }
            }
            foreach ((string name, JsonElement value) in n.Params)
            {
                ParamSpec? ps = s.Param(name);
                if (ps is null)
                {
                    errors.Add(new FlowError(n.Id, name, "unknown-param", $"'{n.Type}' has no parameter '{name}' (parameters: {string.Join(", ", s.Params.Select(p => p.Name))})"));
                    continue;
                }
                if (ps.Check(value) is string msg)
                {
                    errors.Add(new FlowError(n.Id, name, "bad-param", $"parameter '{name}' {msg}"));
                }
            }
            foreach (ParamSpec ps in s.Params)
            {
                if (ps.Required && !n.Params.ContainsKey(ps.Name))
                {
                    errors.Add(new FlowError(n.Id, ps.Name, "missing-param", $"required parameter '{ps.Name}' is not set ({ps.Description})"));
                }
            }
        }
        foreach ((string name, string bindingText) in flow.Outputs)
        {
            CheckBinding(flow, registry, byId, null, name, bindingText, errors);
        }
        if (TopologicalOrder(flow, out List<string>? cycle) is null)
        {
            errors.Add(new FlowError(cycle![0], null, "cycle", $"nodes form a cycle: {string.Join(" -> ", cycle)}"));
        }
        return errors;
    }

    /// <summary>Throws when <see cref="Validate"/> finds errors.</summary>
    /// <exception cref="FlowValidationException">The flow has errors.</exception>
    public static void EnsureValid(FlowDocument flow, NodeRegistry registry)
    {
        List<FlowError> errors = Validate(flow, registry);
        if (errors.Count > 0)
        {
            throw new FlowValidationException(errors);
        }
    }

    /// <summary>Node ids in an order where every node follows the nodes it reads; null on a cycle (then <paramref name="cycle"/> lists one).</summary>
    public static List<string>? TopologicalOrder(FlowDocument flow, out List<string>? cycle)
    {
        var ids = flow.Nodes.Select(n => n.Id).Distinct().ToList();
        var deps = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (FlowNodeSpec n in flow.Nodes)
        {
            var set = deps.TryGetValue(n.Id, out HashSet<string>? s) ? s : deps[n.Id] = new HashSet<string>(StringComparer.Ordinal);
            foreach (string b in n.Inputs.Values)
            {
                if (Binding.Parse(b) is { NodeId: string src } && ids.Contains(src))
                {
                    set.Add(src);
                }
            }
        }
        var order = new List<string>();
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 0 new, 1 on stack, 2 done
        var stack = new List<string>();
        List<string>? found = null;
        cycle = null;
        foreach (string id in ids)
        {
            if (!Visit(id))
            {
                cycle = found;
                return null;
            }
        }
        return order;

        bool Visit(string id)
        {
            state.TryGetValue(id, out int st);
            if (st == 2)
            {
                return true;
            }
            if (st == 1)
            {
                int at = stack.IndexOf(id);
                found = stack.Skip(at).Append(id).ToList();
                return false;
            }
            state[id] = 1;
            stack.Add(id);
            foreach (string d in deps[id].OrderBy(x => x, StringComparer.Ordinal))
            {
                if (!Visit(d))
                {
                    return false;
                }
            }
            stack.RemoveAt(stack.Count - 1);
            state[id] = 2;
            order.Add(id);
            return true;
        }
    }

    private static string? CheckBinding(FlowDocument flow, NodeRegistry registry, Dictionary<string, FlowNodeSpec> byId, string? nodeId, string port, string text, List<FlowError> errors)
    {
        string where = nodeId is null ? $"flow output '{port}'" : $"input '{port}'";
        if (Binding.Parse(text) is not Binding b)
        {
            errors.Add(new FlowError(nodeId, port, "bad-binding", $"{where} is bound to '{text}'; write 'inputs.NAME' or 'NODE.PORT'"));
            return null;
        }
        if (b.NodeId is null)
        {
            if (!flow.Inputs.TryGetValue(b.Name, out FlowInputSpec? fi))
            {
                errors.Add(new FlowError(nodeId, port, "unknown-flow-input", $"{where} reads flow input '{b.Name}', which is not declared (inputs: {string.Join(", ", flow.Inputs.Keys)})"));
                return null;
            }
            return fi.Type;
        }
        if (!byId.TryGetValue(b.NodeId, out FlowNodeSpec? src))
        {
            errors.Add(new FlowError(nodeId, port, "unknown-node", $"{where} reads node '{b.NodeId}', which does not exist"));
            return null;
        }
        if (!registry.TryGet(src.Type, out IFlowNode srcNode))
        {
            return null; // reported as unknown-type on the source node
        }
        PortSpec? outPort = srcNode.Schema.Output(b.Name);
        if (outPort is null)
        {
            errors.Add(new FlowError(nodeId, port, "unknown-port", $"{where} reads '{b.Name}' of node '{b.NodeId}' ({src.Type}), which has outputs: {string.Join(", ", srcNode.Schema.Outputs.Select(o => o.Name))}"));
            return null;
        }
        return outPort.Type;
    }
}
