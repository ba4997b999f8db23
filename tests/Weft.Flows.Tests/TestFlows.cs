using Weft.Tests;
using Weft.Flows;
using Weft.Flows.Nodes;

namespace Weft.Flows.Tests;

internal static class TestFlows
{
    public static string Model => TestAssets.Require("models/stories260K.gguf").Replace("\\", "/");

    /// <summary>Built-ins plus test nodes: sleep (ms param, passes 'value' through) and fail (throws).</summary>
    public static NodeRegistry Registry()
    {
        var r = NodeRegistry.CreateDefault();
        r.Add(new DelegateNode(new NodeSchema
        {
            Name = "sleep", Inputs = [new PortSpec("value", PortTypes.Any, Optional: true)], Outputs = [new PortSpec("value", PortTypes.Any)],
            Params = [new ParamSpec { Name = "ms", Kind = ParamKind.Int, Default = 100.0, Min = 0 }], Cacheable = true,
        }, async c =>
        {
            await Task.Delay(c.Int("ms"), c.CancellationToken);
            return new NodeOutputs { ["value"] = c.Get("value") };
        }));
        r.Add(new DelegateNode(new NodeSchema { Name = "fail", Inputs = [new PortSpec("value", PortTypes.Any, Optional: true)], Outputs = [new PortSpec("value", PortTypes.Any)] },
            (Func<NodeContext, NodeOutputs>)(c => throw new InvalidOperationException("boom"))));
        return r;
    }

    public static FlowDocument Parse(string json) => FlowDocument.Parse(json.Replace("MODEL", Model));

    public static async Task<FlowRunResult> Run(string json, params (string, object?)[] inputs)
    {
        using var services = new FlowServices();
        var exec = new FlowExecutor(Registry(), services);
        return await exec.RunAsync(Parse(json), inputs.ToDictionary(i => i.Item1, i => i.Item2));
    }
}
