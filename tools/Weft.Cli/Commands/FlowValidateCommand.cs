namespace Weft.Cli.Commands;

[Verb("flow validate", "Check a flow file against the node registry (errors per node and port)", Usage =
    "weft flow validate FLOW.flow.json\n" +
    "  exit code 0 when valid, 1 with one line per error (node, port, code) otherwise")]
internal sealed class FlowValidateCommand : ICommand
{
    public Task<int> RunAsync(CliArgs args, CancellationToken ct)
    {
        List<string> pos = args.Positionals();
        args.EnsureAllUsed();
        if (pos.Count != 1)
        {
            throw new CliUsageException("give one flow file");
        }
        Weft.Flows.FlowDocument? flow = FlowCommandSupport.LoadValid(pos[0], FlowCommandSupport.Registry());
        if (flow is null)
        {
            return Task.FromResult(1);
        }
        Console.WriteLine($"{pos[0]}: valid ({flow.Nodes.Count} nodes, inputs: {string.Join(", ", flow.Inputs.Keys)}; outputs: {string.Join(", ", flow.Outputs.Keys)})");
        return Task.FromResult(0);
    }
}
