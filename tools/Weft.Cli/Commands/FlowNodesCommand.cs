using Spectre.Console;
using Weft.Flows;

namespace Weft.Cli.Commands;

[Verb("flow nodes", "List the node types flows can use (--json: the schema export the editor reads)", Usage =
    "weft flow nodes [--json]\n" +
    "      --json   every schema, ComfyUI-like: name, displayName, category, inputs {required, optional}, params, outputs")]
internal sealed class FlowNodesCommand : ICommand
{
    public Task<int> RunAsync(CliArgs args, CancellationToken ct)
    {
        bool json = args.Flag("--json");
        args.EnsureAllUsed();
        NodeRegistry reg = FlowCommandSupport.Registry();
        if (json)
        {
            Console.WriteLine(reg.ExportSchemasJson());
            return Task.FromResult(0);
        }
        var table = new Table().AddColumns("type", "category", "inputs", "outputs", "description");
        foreach (IFlowNode n in reg.Nodes)
        {
            NodeSchema s = n.Schema;
            table.AddRow(Markup.Escape(s.Name), s.Category,
                Markup.Escape(string.Join(", ", s.Inputs.Select(i => $"{i.Name}:{i.Type}{(i.Optional ? "?" : "")}")) + (s.ExtraInputs ? " +any" : "")),
                Markup.Escape(string.Join(", ", s.Outputs.Select(o => $"{o.Name}:{o.Type}"))), Markup.Escape(s.Description));
        }
        AnsiConsole.Write(table);
        return Task.FromResult(0);
    }
}
