using Spectre.Console;
using Weft.Flows;
using Weft.Flows.Batch;

namespace Weft.Cli.Commands;

[Verb("batch run", "Run a flow over a JSONL file: progress, per-line errors, resume, metrics, traces", Usage =
    "weft batch run FLOW.flow.json --data DATA.jsonl --out RUN_DIR [--map NAME=${data.COL} ...] [--concurrency N] [--timeout S] [--restart]\n" +
    "      --data FILE         JSONL, one object per line (a malformed line is reported with its number; the run goes on)\n" +
    "      --out DIR           run directory: results.jsonl (as lines finish), outputs.jsonl, metrics.json, metrics.md, traces.jsonl\n" +
    "      --map NAME=EXPR     flow input from columns, e.g. prompt=${data.story_start} (default: the column named like the input)\n" +
    "      --concurrency N     lines at once (default 2)\n" +
    "      --timeout S         per-line time limit in seconds\n" +
    "      --restart           discard an earlier run in DIR (default: resume it; same command continues where it stopped)\n" +
    "      --quiet             no progress bar")]
internal sealed class BatchRunCommand : ICommand
{
    public async Task<int> RunAsync(CliArgs args, CancellationToken ct)
    {
        string data = args.Required("--data");
        string outDir = args.Required("--out", "-o");
        Dictionary<string, string> maps = FlowCommandSupport.Pairs(args.Options("--map"), "--map");
        int concurrency = args.Int(2, 1, 1024, "--concurrency", "-j");
        float timeout = args.Float(0, 0, 1e6f, "--timeout");
        bool restart = args.Flag("--restart");
        bool quiet = args.Flag("--quiet", "-q");
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
        using var services = new FlowServices();
        var runner = new BatchRunner(new FlowExecutor(reg, services));
        var options = new BatchOptions
        {
            OutDir = outDir, Maps = maps, Concurrency = concurrency, Restart = restart,
            LineTimeout = timeout > 0 ? TimeSpan.FromSeconds(timeout) : null,
        };
        BatchSummary summary = await WithProgress(quiet, "lines", p => runner.RunAsync(flow, data, options, p, ct));
        Report(summary, outDir);
        return 0;
    }

    /// <summary>Runs with a Spectre.Console progress bar (plain lines when output is redirected).</summary>
    internal static async Task<BatchSummary> WithProgress(bool quiet, string label, Func<Action<BatchProgress>, Task<BatchSummary>> run)
    {
        if (quiet || Console.IsErrorRedirected)
        {
            int lastReported = -1;
            return await run(p =>
            {
                if (!quiet && (p.Done == p.Total || p.Done / 10 != lastReported / 10))
                {
                    lastReported = p.Done;
                    Console.Error.WriteLine($"{label}: {p.Done}/{p.Total} ({p.Errors} errors)");
                }
            });
        }
        BatchSummary? result = null;
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        await console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                ProgressTask task = ctx.AddTask(label, maxValue: 1);
                result = await run(p =>
                {
                    task.MaxValue = Math.Max(1, p.Total);
                    task.Value = p.Done;
                    task.Description = $"{label} ({p.Errors} errors)";
                });
                task.Value = task.MaxValue;
            });
        return result!;
    }

    internal static void Report(BatchSummary s, string dir)
    {
        Console.WriteLine(BatchRunner.MetricsMarkdown(s));
        if (s.Resumed > 0)
        {
            Console.WriteLine($"(resumed: {s.Resumed} line(s) came from the earlier run)");
        }
        Console.WriteLine($"written: {Path.Combine(dir, BatchRunner.OutputsFile)}, metrics.json, metrics.md, {BatchRunner.TracesFile}");
    }
}
