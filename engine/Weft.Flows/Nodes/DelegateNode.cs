namespace Weft.Flows.Nodes;

/// <summary>A node type from a schema and a function: the shortest way for a host to register its own C# node.</summary>
/// <param name="schema">Ports and parameters.</param>
/// <param name="run">The node's work.</param>
public sealed class DelegateNode(NodeSchema schema, Func<NodeContext, ValueTask<NodeOutputs>> run) : IFlowNode
{
    /// <summary>A node whose work is synchronous.</summary>
    public DelegateNode(NodeSchema schema, Func<NodeContext, NodeOutputs> run) : this(schema, c => ValueTask.FromResult(run(c)))
    {
    }

    /// <inheritdoc/>
    public NodeSchema Schema { get; } = schema;

    /// <inheritdoc/>
    public ValueTask<NodeOutputs> ExecuteAsync(NodeContext context) => run(context);
}

/// <summary>Short constructors for ports, parameters and outputs used by the built-in nodes.</summary>
internal static class S
{
    public static PortSpec In(string name, string type, string desc = "") => new(name, type, false, desc);
    public static PortSpec Opt(string name, string type, string desc = "") => new(name, type, true, desc);
    public static PortSpec Out(string name, string type, string desc = "") => new(name, type, false, desc);
    public static ParamSpec Str(string name, string? def, string desc, bool required = false) => new() { Name = name, Kind = ParamKind.String, Default = def, Description = desc, Required = required };
    public static ParamSpec Int(string name, int def, double min, double max, string desc) => new() { Name = name, Kind = ParamKind.Int, Default = (double)def, Min = min, Max = max, Description = desc };
    public static ParamSpec Num(string name, double def, double min, double max, string desc) => new() { Name = name, Kind = ParamKind.Number, Default = def, Min = min, Max = max, Description = desc };
    public static ParamSpec Bool(string name, bool def, string desc) => new() { Name = name, Kind = ParamKind.Bool, Default = def, Description = desc };
    public static ParamSpec Enum(string name, string def, string desc, params string[] options) => new() { Name = name, Kind = ParamKind.Enum, Default = def, Options = options, Description = desc };
    public static ParamSpec List(string name, string desc) => new() { Name = name, Kind = ParamKind.StringList, Default = new List<object?>(), Description = desc };
    public static ParamSpec Json(string name, string desc, bool required = false) => new() { Name = name, Kind = ParamKind.Json, Description = desc, Required = required };

    public static NodeOutputs O(params (string Name, object? Value)[] values)
    {
        var o = new NodeOutputs();
        foreach ((string n, object? v) in values)
        {
            o[n] = v;
        }
        return o;
    }
}
