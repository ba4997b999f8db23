using System.Text.Json;
using System.Text.Json.Nodes;
using Weft.Flows;

namespace Weft.Cli.Commands;

[Verb("flow run", "Run a flow once: streams LLM text, prints outputs (or JSON)", Usage =
    "weft flow run FLOW.flow.json [--input NAME=VALUE ...] [--json] [--trace FILE] [--timeout S]\n" +
    "  -i, --input NAME=VALUE  flow input (string inputs take the text as is; other types parse VALUE as JSON)\n" +
    "      --json              print {status, outputs, nodes, errors} as JSON (no streaming)\n" +
    "      --trace FILE        save the run trace (node spans, timings, tokens) as JSON\n" +
    "      --timeout S         per-node timeout in seconds\n" +
    "  Parameters may use ${env.NAME} / ${env.NAME:-fallback}; WEFT_ASSETS defaults to ../shared/assets.\n" +
    "  exit code: 0 success, 1 a node failed or the flow is invalid")]
internal sealed class FlowRunCommand : ICommand
{
    public async Task<int> RunAsync(CliArgs args, CancellationToken ct)
    {
        Dictionary<string, string> given = FlowCommandSupport.Pairs(args.Options("-i", "--input"), "--input");
        bool json = args.Flag("--json");
        string? tracePath = args.Option("--trace");
        float timeout = args.Float(0, 0, 1e6f, "--timeout");
        List<string> pos = args.Positionals();
        args.EnsureAllUsed();
        if (pos.Count != 1)
        {
            throw new CliUsageException("give one flow file");
        }
        NodeRegistry reg = FlowCommandSupport.Registry();
        FlowDocument? flow = FlowCommandSupport.LoadValid(pos[0], reg);
        if (flow is null)
        {
            return 1;
        }
        var inputs = given.ToDictionary(kv => kv.Key, kv => FlowCommandSupport.InputValue(flow, kv.Key, kv.Value));
        using var services = new FlowServices();
        var exec = new FlowExecutor(reg, services);
        object gate = new();
        string? streaming = null;
        var options = new FlowRunOptions
        {
            NodeTimeout = timeout > 0 ? TimeSpan.FromSeconds(timeout) : null,
            OnEvent = json ? null : e =>
            {
                lock (gate)
                {
                    switch (e.Kind)
                    {
                        case FlowEventKind.Text:
                            if (streaming != e.NodeId)
                            {
                                Console.Error.Write($"\n[{e.NodeId}] ");
                                streaming = e.NodeId;
                            }
                            Console.Error.Write(e.Text);
                            break;
                        case FlowEventKind.Done:
                        case FlowEventKind.Cached:
                        case FlowEventKind.Failed:
                        case FlowEventKind.Skipped:
                            streaming = null;
                            Console.Error.WriteLine($"\n[{e.NodeId}] {e.Kind.ToString().ToLowerInvariant()}{(e.Duration is TimeSpan d ? $" {d.TotalMilliseconds:F1} ms" : "")}{(e.Error is null ? "" : ": " + e.Error)}");
                            break;
                    }
                }
            },
        };
        FlowRunResult r;
        try
        {
            r = await exec.RunAsync(flow, inputs, options, ct);
        }
        catch (FlowValidationException e)
        {
            foreach (FlowError err in e.Errors)
            {
                Console.Error.WriteLine(err);
            }
            return 1;
        }
        if (tracePath is not null)
        {
            r.Trace.Save(tracePath);
        }
        if (json)
        {
            var o = new JsonObject
            {
                ["status"] = r.Status.ToString().ToLowerInvariant(),
                ["outputs"] = FlowValue.ToJsonNode(r.Outputs),
                ["nodes"] = new JsonObject(r.Nodes.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)new JsonObject
                {
                    ["state"] = kv.Value.State.ToString().ToLowerInvariant(),
                    ["ms"] = kv.Value.Duration.TotalMilliseconds,
                    ["error"] = kv.Value.Error,
                }))),
                ["errors"] = new JsonArray(r.Errors.Select(e => (JsonNode?)JsonValue.Create(e.ToString())).ToArray()),
            };
            Console.WriteLine(o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        else
        {
            foreach ((string k, object? v) in r.Outputs)
            {
                Console.WriteLine($"{k}: {FlowValue.ToText(v)}");
            }
            foreach (FlowError e in r.Errors)
            {
                Console.Error.WriteLine(e);
            }
        }
        return r.Status == FlowRunStatus.Succeeded ? 0 : 1;
    }
}
