using System.Text.Json;
using Spectre.Console;
using Weft.Core;
using Weft.Cpu;

namespace Weft.Cli.Commands;

/// <summary>
/// <c>weft bench ops</c>: this machine's memory bandwidth (STREAM triad) and the CPU matmul kernels per weight type,
/// for decode (weights × one activation row) and prompt (weights × many rows).
/// </summary>
[Verb("bench ops", "CPU matmul speed per weight type vs memory bandwidth (decode and prompt shapes)", Usage = """
    weft bench ops [--threads N] [--types f32,f16,q8_0,...] [--k 4096] [--n 14336] [--rows 512] [--reps 7] [--no-prompt] [--cpu-time] [--json]
      --threads N   worker threads (default: all cores)
      --types LIST  weight types (default f32,f16,bf16,q8_0,q4_0,q4_1,q5_0,q5_1,q4_k,q5_k,q6_k)
      --k, --n      weight shape: rows of k elements, n rows (default 4096 x 14336, a Llama-3-8B FFN matrix)
      --rows M      activation rows of the prompt case (default 512)
      --reps R      timed repetitions after warm-up; the median is reported (default 7 decode, max(2, R/3) prompt)
      --no-prompt   only the decode case
      --cpu-time    report process CPU time per thread instead of wall time (for a machine busy with other work)
      --json        print results as JSON
    Decode: time, GFLOPS (2*k*n), GB/s of weight bytes streamed and its ratio to the triad bandwidth.
    Timings are wall clock: other load on the machine shows up in them.
    """)]
public sealed class BenchOpsCommand : ICommand
{
    private static readonly DType[] s_defaultTypes =
        { DType.F32, DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0, DType.Q4_1, DType.Q5_0, DType.Q5_1, DType.Q4_K, DType.Q5_K, DType.Q6_K };

    /// <inheritdoc />
    public Task<int> RunAsync(CliArgs args, CancellationToken cancellationToken)
    {
        int threads = args.Int(Environment.ProcessorCount, 1, 1024, "--threads");
        string? typeList = args.Option("--types");
        int k = args.Int(4096, 256, 1 << 20, "--k");
        int n = args.Int(14336, 1, 1 << 24, "--n");
        int rows = args.Int(512, 2, 1 << 16, "--rows");
        int reps = args.Int(7, 1, 1000, "--reps");
        bool noPrompt = args.Flag("--no-prompt");
        bool json = args.Flag("--json");
        OpsBench.UseCpuTime = args.Flag("--cpu-time");
        args.Positionals();
        args.EnsureAllUsed();

        DType[] types = typeList is null ? s_defaultTypes : typeList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseType).ToArray();
        foreach (DType t in types)
        {
            if (k % TypeTraits.Of(t).BlockSize != 0)
            {
                throw new CliUsageException($"--k {k} is not a multiple of the {TypeTraits.Of(t).Name} block size {TypeTraits.Of(t).BlockSize}");
            }
        }

        using var pool = new WorkerPool(threads);
        double triad = OpsBench.Triad(pool, reps);
        if (!json)
        {
            AnsiConsole.MarkupLine($"[bold]weft bench ops[/]: {threads} thread(s), {CpuFeatures.Describe()}, weights {k} x {n}, prompt rows {rows}{(OpsBench.UseCpuTime ? ", CPU time per thread" : ", wall time")}");
            AnsiConsole.MarkupLine($"STREAM triad: [bold]{triad:F1} GB/s[/]");
        }

        var results = new List<OpsBench.Result>();
        foreach (DType t in types)
        {
            cancellationToken.ThrowIfCancellationRequested();
            results.Add(OpsBench.MatMul(pool, t, k, n, rows, reps, !noPrompt));
            if (!json)
            {
                OpsBench.Result r = results[^1];
                Console.Error.WriteLine($"  {TypeTraits.Of(t).Name}: decode {r.DecodeMs:F2} ms" + (r.PromptGflops > 0 ? $", prompt {r.PromptGflops:F1} GFLOPS" : ""));
            }
        }

        if (json)
        {
            var doc = new Dictionary<string, object>
            {
                ["threads"] = threads, ["cpu_time"] = OpsBench.UseCpuTime, ["isa"] = CpuFeatures.Describe(), ["k"] = k, ["n"] = n, ["prompt_rows"] = rows,
                ["triad_gb_per_s"] = Math.Round(triad, 2),
                ["results"] = results.Select(r => new Dictionary<string, object>
                {
                    ["type"] = TypeTraits.Of(r.Type).Name,
                    ["decode_ms"] = Math.Round(r.DecodeMs, 3),
                    ["decode_gflops"] = Math.Round(r.DecodeGflops, 2),
                    ["weight_gb_per_s"] = Math.Round(r.WeightGbPerS, 2),
                    ["fraction_of_triad"] = Math.Round(r.WeightGbPerS / triad, 3),
                    ["prompt_ms"] = Math.Round(r.PromptMs, 2),
                    ["prompt_gflops"] = Math.Round(r.PromptGflops, 2),
                }).ToList(),
            };
            Console.WriteLine(JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
            return Task.FromResult(0);
        }

        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("type");
        table.AddColumn(new TableColumn("decode ms").RightAligned());
        table.AddColumn(new TableColumn("GFLOPS").RightAligned());
        table.AddColumn(new TableColumn("weights GB/s").RightAligned());
        table.AddColumn(new TableColumn("of triad").RightAligned());
        table.AddColumn(new TableColumn($"prompt x{rows} ms").RightAligned());
        table.AddColumn(new TableColumn("prompt GFLOPS").RightAligned());
        foreach (OpsBench.Result r in results)
        {
            table.AddRow(TypeTraits.Of(r.Type).Name, $"{r.DecodeMs:F2}", $"{r.DecodeGflops:F1}", $"{r.WeightGbPerS:F1}",
                $"{r.WeightGbPerS / triad:P0}", r.PromptMs > 0 ? $"{r.PromptMs:F1}" : "-", r.PromptGflops > 0 ? $"{r.PromptGflops:F1}" : "-");
        }
        AnsiConsole.Write(table);
        return Task.FromResult(0);
    }

    private static DType ParseType(string name)
    {
        if (!TypeTraits.TryParse(name, out DType t) || !Weft.Cpu.Quants.VecDot.Supports(t))
        {
            throw new CliUsageException($"--types: '{name}' is not a weight type with a CPU matmul kernel (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k)");
        }
        return t;
    }
}
