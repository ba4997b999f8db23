namespace Weft.Flows.Nodes;

/// <summary>Runs a sub-flow once per item of a list, with bounded concurrency, and collects one of its outputs.</summary>
public sealed class MapNode : IFlowNode
{
    /// <inheritdoc/>
    public NodeSchema Schema { get; } = new()
    {
        Name = "map", DisplayName = "Map over list", Category = "control", ExtraInputs = true,
        Description = "Runs the sub-flow in 'flow' for each item (bound to its input 'item_input'; other connected inputs are passed to the sub-flow by name) and returns its output 'output' per item, in order.",
        Inputs = [S.In("items", PortTypes.List)],
        Params = [S.Str("flow", null, "Path of the sub-flow file (relative to this flow's folder).", required: true),
            S.Str("item_input", "item", "Sub-flow input that receives the item."),
            S.Str("output", "result", "Sub-flow output to collect."),
            S.Int("concurrency", 4, 1, 256, "Items processed at once.")],
        Outputs = [S.Out("results", PortTypes.List)],
    };

    /// <inheritdoc/>
    public async ValueTask<NodeOutputs> ExecuteAsync(NodeContext c)
    {
        NodeRegistry registry = c.Services.Registry ?? throw new FlowExecutionException(c.NodeId, "no node registry is attached to the services");
        FlowDocument sub = FlowDocument.Load(c.PathParam("flow"));
        string itemInput = c.Param("item_input");
        string output = c.Param("output");
        var exec = new FlowExecutor(registry, c.Services);
        List<object?> items = c.GetList("items");
        var results = new object?[items.Count];
        var extra = c.Inputs.Where(kv => kv.Key != "items").ToDictionary(kv => kv.Key, kv => kv.Value);
        int done = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, items.Count), new ParallelOptions { MaxDegreeOfParallelism = c.Int("concurrency"), CancellationToken = c.CancellationToken }, async (i, ct) =>
        {
            var inputs = new Dictionary<string, object?>(extra) { [itemInput] = items[i] };
            FlowRunResult r = await exec.RunAsync(sub, inputs, new FlowRunOptions(), ct).ConfigureAwait(false);
            if (r.Status != FlowRunStatus.Succeeded)
            {
                throw new FlowExecutionException(c.NodeId, $"item {i}: sub-flow {r.Status.ToString().ToLowerInvariant()}: {string.Join("; ", r.Errors)}");
            }
            results[i] = r.Outputs.GetValueOrDefault(output);
            c.Progress((double)Interlocked.Increment(ref done) / items.Count);
        }).ConfigureAwait(false);
        return S.O(("results", results.ToList()));
    }
}
