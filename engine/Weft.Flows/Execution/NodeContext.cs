using System.Globalization;
using System.Text.Json;

namespace Weft.Flows;

/// <summary>What a node sees while it runs: its inputs, parameters, services, cancellation, and ways to report progress.</summary>
public sealed class NodeContext
{
    private readonly Dictionary<string, JsonElement> _params;
    private readonly Action<FlowEvent> _emit;
    private readonly NodeUsage _usage;

    internal NodeContext(string nodeId, NodeSchema schema, IReadOnlyDictionary<string, object?> inputs, Dictionary<string, JsonElement> parameters,
        FlowServices services, string? baseDirectory, Action<FlowEvent> emit, NodeUsage usage, CancellationToken ct)
    {
        NodeId = nodeId;
        Schema = schema;
        Inputs = inputs;
        _params = parameters;
        Services = services;
        BaseDirectory = baseDirectory;
        _emit = emit;
        _usage = usage;
        CancellationToken = ct;
    }

    /// <summary>Id of the node in its flow.</summary>
    public string NodeId { get; }

    /// <summary>Schema of the node type.</summary>
    public NodeSchema Schema { get; }

    /// <summary>Bound input values by port name (unbound optional inputs are absent).</summary>
    public IReadOnlyDictionary<string, object?> Inputs { get; }

    /// <summary>Shared services (models, collections, embedders, tools).</summary>
    public FlowServices Services { get; }

    /// <summary>Directory relative paths resolve against (the flow file's), or null.</summary>
    public string? BaseDirectory { get; }

    /// <summary>Cancelled when the run is cancelled or the node times out.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>Whether an input is bound.</summary>
    public bool Has(string input) => Inputs.ContainsKey(input);

    /// <summary>An input value (null when unbound).</summary>
    public object? Get(string input) => Inputs.TryGetValue(input, out object? v) ? v : null;

    /// <summary>An input as text (numbers in invariant culture, JSON values serialized).</summary>
    public string GetString(string input, string fallback = "") => Inputs.TryGetValue(input, out object? v) && v is not null ? FlowValue.ToText(v) : fallback;

    /// <summary>An input as a list (a non-list value becomes a one-item list).</summary>
    public List<object?> GetList(string input) => FlowValue.ToList(Get(input));

    /// <summary>A string parameter with <c>${env.NAME}</c> substituted (default from the schema).</summary>
    public string Param(string name) => FlowEnvironment.Substitute(RawParam(name) is { ValueKind: JsonValueKind.String } e ? e.GetString()! : RawParam(name)?.GetRawText() ?? "");

    /// <summary>A path parameter: substituted, then resolved against <see cref="BaseDirectory"/> when relative and not found from the working directory.</summary>
    public string PathParam(string name) => FlowEnvironment.ResolvePath(Param(name), BaseDirectory);

    /// <summary>A numeric parameter.</summary>
    public double Number(string name) => RawParam(name) is { } e
        ? e.ValueKind == JsonValueKind.String ? double.Parse(FlowEnvironment.Substitute(e.GetString()!), CultureInfo.InvariantCulture) : e.GetDouble()
        : 0;

    /// <summary>An integer parameter.</summary>
    public int Int(string name) => (int)Number(name);

    /// <summary>A boolean parameter.</summary>
    public bool Bool(string name) => RawParam(name) is { ValueKind: JsonValueKind.True };

    /// <summary>A string-list parameter (empty when unset).</summary>
    public List<string> StringList(string name)
    {
        var list = new List<string>();
        if (RawParam(name) is { ValueKind: JsonValueKind.Array } e)
        {
            foreach (JsonElement x in e.EnumerateArray())
            {
                list.Add(FlowEnvironment.Substitute(x.GetString() ?? ""));
            }
        }
        return list;
    }

    /// <summary>A parameter as JSON (the given value or the schema default), or null when neither exists.</summary>
    public JsonElement? RawParam(string name)
    {
        if (_params.TryGetValue(name, out JsonElement v))
        {
            return v;
        }
        ParamSpec? spec = Schema.Param(name);
        return spec?.Default is null ? null : JsonSerializer.SerializeToElement(FlowValue.ToJsonNode(spec.Default), FlowValueJson.Default.JsonNode);
    }

    /// <summary>Streams a piece of generated text out of the node (an <see cref="FlowEventKind.Text"/> event).</summary>
    public void EmitText(string text) => _emit(new FlowEvent(FlowEventKind.Text, NodeId, Schema.Name) { Text = text });

    /// <summary>Reports progress in [0, 1].</summary>
    public void Progress(double fraction, string? message = null) => _emit(new FlowEvent(FlowEventKind.Progress, NodeId, Schema.Name) { Progress = fraction, Text = message });

    /// <summary>Adds token counts (and the model used) to the node's trace span.</summary>
    public void AddUsage(string model, int promptTokens, int completionTokens)
    {
        lock (_usage)
        {
            _usage.Model = model;
            _usage.PromptTokens += promptTokens;
            _usage.CompletionTokens += completionTokens;
        }
    }
}

/// <summary>Token usage of one node execution (for traces).</summary>
public sealed class NodeUsage
{
    /// <summary>Model used (last one reported).</summary>
    public string? Model { get; set; }
    /// <summary>Prompt tokens evaluated.</summary>
    public int PromptTokens { get; set; }
    /// <summary>Tokens generated.</summary>
    public int CompletionTokens { get; set; }
}
