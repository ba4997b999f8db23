using System.Globalization;
using Spectre.Console;
using Weft.Flows.Batch;

namespace Weft.Cli.Commands;

[Verb("batch compare", "Print two batch runs' metrics side by side", Usage =
    "weft batch compare RUN_A RUN_B\n" +
    "  reads RUN/metrics.json of each (a run or eval directory) and prints mean per metric with the difference B - A")]
internal sealed class BatchCompareCommand : ICommand
{
    public Task<int> RunAsync(CliArgs args, CancellationToken ct)
    {
        List<string> pos = args.Positionals();
        args.EnsureAllUsed();
        if (pos.Count != 2)
        {
            throw new CliUsageException("give two run directories");
        }
        BatchSummary a = BatchRunner.ReadMetrics(pos[0]), b = BatchRunner.ReadMetrics(pos[1]);
        var table = new Table().AddColumns("metric", Markup.Escape(pos[0]), Markup.Escape(pos[1]), "B - A");
        static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
        table.AddRow("lines ok", $"{a.Ok}/{a.Lines}", $"{b.Ok}/{b.Lines}", (b.Ok - a.Ok).ToString(CultureInfo.InvariantCulture));
        table.AddRow("ms/line", F(a.MeanMs), F(b.MeanMs), F(b.MeanMs - a.MeanMs));
        foreach (string k in a.Metrics.Keys.Union(b.Metrics.Keys).Order(StringComparer.Ordinal))
        {
            bool ha = a.Metrics.TryGetValue(k, out MetricSummary? ma), hb = b.Metrics.TryGetValue(k, out MetricSummary? mb);
            table.AddRow(Markup.Escape(k), ha ? F(ma!.Mean) : "-", hb ? F(mb!.Mean) : "-", ha && hb ? F(mb!.Mean - ma!.Mean) : "-");
        }
        AnsiConsole.Write(table);
        return Task.FromResult(0);
    }
}
