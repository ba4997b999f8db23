using Weft.Flows;
using Weft.Flows.Batch;

namespace Weft.Cli.Commands;

[Verb("batch eval", "Run an evaluation flow over an earlier batch run's outputs and aggregate its metrics", Usage =
    "weft batch eval EVAL.flow.json --run RUN_DIR [--out DIR] [--map NAME=${outputs.X}|${data.COL} ...] [--concurrency N] [--restart]\n" +
    "  inputs default to the run output, else the data column, named like the input; results go to RUN_DIR/eval-NAME")]
internal sealed class BatchEvalCommand : ICommand
{
    public async Task<int> RunAsync(CliArgs args, CancellationToken ct)
    {
        string run = args.Required("--run");
        string? outDir = args.Option("--out", "-o");
        Dictionary<string, string> maps = FlowCommandSupport.Pairs(args.Options("--map"), "--map");
        int concurrency = args.Int(2, 1, 1024, "--concurrency", "-j");
        bool restart = args.Flag("--restart");
        bool quiet = args.Flag("--quiet", "-q");
        List<string> pos = args.Positionals();
        args.EnsureAllUsed();
        if (pos.Count != 1)
        {
            throw new CliUsageException("give one evaluation flow file");
        }
        NodeRegistry reg = FlowCommandSupport.Registry();
        FlowDocument? flow = FlowCommandSupport.LoadValid(pos[0], reg);
        if (flow is null)
        {
            return 1;
        }
        string name = Path.GetFileName(pos[0]).Replace(".flow.json", "", StringComparison.OrdinalIgnoreCase);
        outDir ??= Path.Combine(run, "eval-" + name);
        using var services = new FlowServices();
        var runner = new BatchRunner(new FlowExecutor(reg, services));
        BatchSummary s = await BatchRunCommand.WithProgress(quiet, "eval", p => runner.EvalAsync(flow, run, new BatchOptions { OutDir = outDir, Maps = maps, Concurrency = concurrency, Restart = restart }, p, ct));
        BatchRunCommand.Report(s, outDir);
        return 0;
    }
}
