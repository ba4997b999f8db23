using System.Text;
using System.Text.Json;
using Weft.Core;
using Weft.Flows.Nodes;

namespace Weft.Flows;

/// <summary>
/// The node types a flow may use. Built from the <see cref="IFlowNode"/> registry of an <see cref="Engine"/> (modules
/// register nodes with <see cref="FlowBuilderExtensions.AddNode(EngineBuilder, IFlowNode)"/>) or directly from a list.
/// </summary>
public sealed class NodeRegistry
{
    private readonly Dictionary<string, IFlowNode> _nodes = new(StringComparer.Ordinal);
    private readonly List<IFlowNode> _ordered = new();

    /// <summary>A registry holding <paramref name="nodes"/>.</summary>
    /// <exception cref="ArgumentException">Two nodes share a name, or a schema is malformed.</exception>
    public NodeRegistry(IEnumerable<IFlowNode> nodes)
    {
        foreach (IFlowNode n in nodes)
        {
            Add(n);
        }
    }

    /// <summary>Registered node types in registration order.</summary>
    public IReadOnlyList<IFlowNode> Nodes => _ordered;

    /// <summary>The built-in node library (<see cref="BuiltinNodes.All"/>).</summary>
    public static NodeRegistry CreateDefault() => new(BuiltinNodes.All());

    /// <summary>The nodes registered in an engine's <see cref="IFlowNode"/> registry.</summary>
    public static NodeRegistry FromEngine(Engine engine) => new(engine.Registry<IFlowNode>().Items.Select(kv => kv.Value));

    /// <summary>Adds a node type.</summary>
    /// <exception cref="ArgumentException">The name is taken or the schema is malformed.</exception>
    public NodeRegistry Add(IFlowNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        NodeSchema s = node.Schema;
        if (string.IsNullOrWhiteSpace(s.Name))
        {
            throw new ArgumentException($"Node type {node.GetType().Name} has an empty schema name.", nameof(node));
        }
        foreach (PortSpec p in s.Inputs.Concat(s.Outputs))
        {
            if (!PortTypes.IsKnown(p.Type))
            {
                throw new ArgumentException($"Node type '{s.Name}' port '{p.Name}' has unknown type '{p.Type}' (known: {string.Join(", ", PortTypes.All)}).", nameof(node));
            }
        }
        if (!_nodes.TryAdd(s.Name, node))
        {
            throw new ArgumentException($"A node type named '{s.Name}' is already registered.", nameof(node));
        }
        _ordered.Add(node);
        return this;
    }

    /// <summary>Looks a node type up.</summary>
    public bool TryGet(string name, out IFlowNode node)
    {
        bool ok = _nodes.TryGetValue(name, out IFlowNode? n);
        node = n!;
        return ok;
    }

    /// <summary>
    /// All schemas as JSON, ComfyUI-like: an object keyed by type name, each with name, displayName, category,
    /// description, inputs {required, optional}: name → [type, {default, min, max, options, description}], params
    /// (same shape), outputs (types), outputNames, isOutput, cacheable.
    /// </summary>
    public string ExportSchemasJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            foreach (IFlowNode n in _ordered)
            {
                NodeSchema s = n.Schema;
                w.WriteStartObject(s.Name);
                w.WriteString("name", s.Name);
                w.WriteString("displayName", s.DisplayName.Length > 0 ? s.DisplayName : s.Name);
                w.WriteString("category", s.Category);
                w.WriteString("description", s.Description);
                w.WriteStartObject("inputs");
                foreach (bool optional in new[] { false, true })
                {
                    w.WriteStartObject(optional ? "optional" : "required");
                    foreach (PortSpec p in s.Inputs.Where(p => p.Optional == optional))
                    {
                        w.WriteStartArray(p.Name);
                        w.WriteStringValue(p.Type);
                        w.WriteStartObject();
                        if (p.Description.Length > 0)
                        {
                            w.WriteString("description", p.Description);
                        }
                        w.WriteEndObject();
                        w.WriteEndArray();
                    }
                    w.WriteEndObject();
                }
                w.WriteBoolean("extraInputs", s.ExtraInputs);
                w.WriteEndObject();
                w.WriteStartObject("params");
                foreach (ParamSpec p in s.Params)
                {
                    w.WriteStartArray(p.Name);
                    w.WriteStringValue(p.WidgetType);
                    w.WriteStartObject();
                    if (p.Default is not null)
                    {
                        w.WritePropertyName("default");
                        JsonSerializer.Serialize(w, FlowValue.ToJsonNode(p.Default), FlowValueJson.Default.JsonNode);
                    }
                    if (p.Min is double min)
                    {
                        w.WriteNumber("min", min);
                    }
                    if (p.Max is double max)
                    {
                        w.WriteNumber("max", max);
                    }
                    if (p.Options.Count > 0)
                    {
                        w.WriteStartArray("options");
                        foreach (string o in p.Options)
                        {
                            w.WriteStringValue(o);
                        }
                        w.WriteEndArray();
                    }
                    if (p.Required)
                    {
                        w.WriteBoolean("required", true);
                    }
                    if (p.Description.Length > 0)
                    {
                        w.WriteString("description", p.Description);
                    }
                    w.WriteEndObject();
                    w.WriteEndArray();
                }
                w.WriteEndObject();
                w.WriteStartArray("outputs");
                foreach (PortSpec p in s.Outputs)
                {
                    w.WriteStringValue(p.Type);
                }
                w.WriteEndArray();
                w.WriteStartArray("outputNames");
                foreach (PortSpec p in s.Outputs)
                {
                    w.WriteStringValue(p.Name);
                }
                w.WriteEndArray();
                w.WriteBoolean("isOutput", s.IsOutput);
                w.WriteBoolean("cacheable", s.Cacheable);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }
}

/// <summary>Fluent registration of flow nodes and agent tools on an <see cref="EngineBuilder"/>.</summary>
public static class FlowBuilderExtensions
{
    /// <summary>Registers a node type under its schema name.</summary>
    public static EngineBuilder AddNode(this EngineBuilder builder, IFlowNode node) => builder.Register(node.Schema.Name, node);

    /// <summary>Registers a node type with a parameterless constructor.</summary>
    public static EngineBuilder AddNode<T>(this EngineBuilder builder) where T : IFlowNode, new() => builder.AddNode(new T());

    /// <summary>Registers a tool the agent node may call.</summary>
    public static EngineBuilder AddAgentTool(this EngineBuilder builder, IAgentTool tool) => builder.Register(tool.Name, tool);
}

/// <summary>Registers the built-in node library (<see cref="BuiltinNodes.All"/>).</summary>
public sealed class FlowNodesModule : IModule
{
    /// <inheritdoc/>
    public void Build(EngineBuilder builder)
    {
        foreach (IFlowNode n in BuiltinNodes.All())
        {
            builder.AddNode(n);
        }
    }
}
