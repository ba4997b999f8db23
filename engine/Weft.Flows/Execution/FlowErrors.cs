namespace Weft.Flows;

/// <summary>A validation or execution error, located at a node and port where it has one.</summary>
/// <param name="NodeId">Node id (null: the flow itself).</param>
/// <param name="Port">Input, output or parameter name (null: the node as a whole).</param>
/// <param name="Code">Stable code: unknown-type, missing-input, type-mismatch, cycle, bad-param, ...</param>
/// <param name="Message">What is wrong and how to fix it.</param>
public sealed record FlowError(string? NodeId, string? Port, string Code, string Message)
{
    /// <inheritdoc/>
    public override string ToString() =>
        NodeId is null ? $"flow: {Message} [{Code}]" : Port is null ? $"node '{NodeId}': {Message} [{Code}]" : $"node '{NodeId}' port '{Port}': {Message} [{Code}]";
}

/// <summary>A flow failed validation.</summary>
public sealed class FlowValidationException(IReadOnlyList<FlowError> errors)
    : Exception($"The flow is invalid ({errors.Count} error(s)):\n  " + string.Join("\n  ", errors))
{
    /// <summary>Every error, per node and port.</summary>
    public IReadOnlyList<FlowError> Errors { get; } = errors;
}

/// <summary>A node failed while running; the message names the node.</summary>
public sealed class FlowExecutionException(string? nodeId, string message, Exception? inner = null)
    : Exception(nodeId is null ? message : $"node '{nodeId}': {message}", inner)
{
    /// <summary>The failing node, or null.</summary>
    public string? NodeId { get; } = nodeId;
}
