namespace Weft.Flows;

/// <summary>
/// A node type. Implementations are stateless (one instance serves every node of that type, concurrently); state that
/// must be shared (loaded models, indexes) lives in <see cref="FlowServices"/>.
/// </summary>
/// <example>
/// <code>
/// sealed class Shout : IFlowNode
/// {
///     public NodeSchema Schema { get; } = new() { Name = "shout", Inputs = [new("text", PortTypes.String)], Outputs = [new("text", PortTypes.String)] };
///     public ValueTask&lt;NodeOutputs&gt; ExecuteAsync(NodeContext c) => ValueTask.FromResult(new NodeOutputs { ["text"] = c.GetString("text").ToUpperInvariant() });
/// }
/// builder.AddNode(new Shout());
/// </code>
/// </example>
public interface IFlowNode
{
    /// <summary>Ports and parameters.</summary>
    NodeSchema Schema { get; }

    /// <summary>Runs the node on its resolved inputs and parameters.</summary>
    ValueTask<NodeOutputs> ExecuteAsync(NodeContext context);
}

/// <summary>Output values of one node execution, by port name.</summary>
public sealed class NodeOutputs : Dictionary<string, object?>
{
    /// <summary>Empty outputs.</summary>
    public NodeOutputs() : base(StringComparer.Ordinal)
    {
    }

    /// <summary>A copy of <paramref name="values"/>.</summary>
    public NodeOutputs(IDictionary<string, object?> values) : base(values, StringComparer.Ordinal)
    {
    }
}

/// <summary>Marks the value of an inactive branch: a node that receives it on any bound input is skipped (its outputs are inactive too), except branch joins (<see cref="NodeSchema.JoinsBranches"/>), which ignore it.</summary>
public sealed class Skipped
{
    /// <summary>The single instance.</summary>
    public static Skipped Value { get; } = new();

    private Skipped()
    {
    }

    /// <inheritdoc/>
    public override string ToString() => "<skipped>";
}
