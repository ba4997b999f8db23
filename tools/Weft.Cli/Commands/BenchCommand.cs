using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using Weft.Core;
using Weft.Cpu;
using Weft.Models.Llama;

namespace Weft.Cli.Commands;

/// <summary>
/// <c>weft bench</c>: prompt processing (pp) and token generation (tg) speed of a model, measured the way llama-bench
/// does, plus the weight bandwidth reached while decoding and its ratio to this machine's STREAM triad.
/// </summary>
[Verb("bench", "Model speed: prompt processing and generation tokens/s (llama-bench style)", Usage =
    "weft bench -m MODEL [-p 128] [-n 64] [-r 3] [-t THREADS] [--backend B] [--no-triad] [--json]\n" +
    "  -p, --n-prompt N        prompt tokens evaluated as one batch into a fresh context (default 128; 0: skip pp)\n" +
    "  -n, --n-gen N           tokens generated one at a time from an empty context (default 64; 0: skip tg)\n" +
    "  -r, --repetitions R     timed repetitions after one warm-up run; mean ± sd is reported (default 3)\n" +
    "      --seed S            seed of the random token ids (default 42)\n" +
    "      --no-triad          skip the STREAM triad measurement (no bandwidth ratio)\n" +
    "      --profile           also time the phases of one-token decoding (graph build, allocate, compute) and each op kind\n" +
    "      --json              print the results as JSON\n" +
    ModelArgs.Usage + "\n" +
    "Timings are wall clock: other load on the machine shows up in them.")]
public sealed class BenchCommand : ICommand
{
    /// <inheritdoc />
    public Task<int> RunAsync(CliArgs args, CancellationToken cancellationToken)
    {
        int nPrompt = args.Int(128, 0, 1 << 16, "-p", "--n-prompt");
        int nGen = args.Int(64, 0, 1 << 16, "-n", "--n-gen");
        int reps = args.Int(3, 1, 1000, "-r", "--repetitions");
        int seed = args.Int(42, 0, int.MaxValue, "--seed");
        bool noTriad = args.Flag("--no-triad");
        bool json = args.Flag("--json");
        bool profile = args.Flag("--profile");
        ModelArgs m = ModelArgs.Parse(args);
        args.Positionals();
        args.EnsureAllUsed();
        if (nPrompt == 0 && nGen == 0)
        {
            throw new CliUsageException("nothing to measure: -p and -n are both 0");
        }

        int threads = m.Context.Threads > 0 ? m.Context.Threads : Environment.ProcessorCount;
        using LlamaModel model = LlamaModel.Load(m.Model, m.Tokenizer, m.Load);
        int ctxSize = Math.Max(Math.Max(nPrompt, nGen), 1);
        using LlamaContext ctx = model.CreateContext(m.Context with
        {
            Threads = threads,
            ContextSize = ctxSize,
            BatchSize = Math.Max(nPrompt, 1),
        });
        if (!json)
        {
            Console.Error.WriteLine(ctx.BackendNote);
        }

        var rng = new Random(seed);
        int nVocab = model.HParams.NVocab;
        int[] prompt = new int[nPrompt];
        int[] gen = new int[nGen];
        for (int i = 0; i < prompt.Length; i++) prompt[i] = rng.Next(nVocab);
        for (int i = 0; i < gen.Length; i++) gen[i] = rng.Next(nVocab);

        Stats? pp = null, tg = null;
        if (nPrompt > 0)
        {
            pp = Measure(reps, nPrompt, () => { ctx.Clear(); ctx.Decode(prompt); }, cancellationToken);
        }
        if (nGen > 0)
        {
            tg = Measure(reps, nGen, () =>
            {
                ctx.Clear();
                for (int i = 0; i < gen.Length; i++)
                {
                    ctx.Decode(gen.AsSpan(i, 1));
                }
            }, cancellationToken);
        }

        DecodeProfile? prof = null;
        if (profile && nGen > 0)
        {
            DecodeProfiler.Run(model, ctx.Params, gen.Take(Math.Min(4, nGen)).ToArray()); // warm-up
            prof = DecodeProfiler.Run(model, ctx.Params, gen);
        }

        (long modelBytes, long readBytes, long nParams) = WeightBytes(model.Weights);
        double triad = 0;
        if (!noTriad)
        {
            using var pool = new WorkerPool(threads);
            triad = OpsBench.Triad(pool, 3);
        }
        double decodeGbPerS = tg is null ? 0 : readBytes * tg.Mean / 1e9;
        string name = Path.GetFileName(m.Model);

        if (json)
        {
            var doc = new Dictionary<string, object?>
            {
                ["model"] = name,
                ["model_bytes"] = modelBytes,
                ["weight_bytes_per_token"] = readBytes,
                ["n_params"] = nParams,
                ["weight_types"] = TypeSummary(model.Weights),
                ["backend"] = ctx.BackendNote,
                ["threads"] = threads,
                ["kv_type"] = TypeTraits.Of(ctx.Params.KvType).Name,
                ["repetitions"] = reps,
                ["pp"] = pp is null ? null : StatsJson(nPrompt, pp),
                ["tg"] = tg is null ? null : StatsJson(nGen, tg),
                ["decode_weight_gb_per_s"] = Math.Round(decodeGbPerS, 3),
                ["triad_gb_per_s"] = noTriad ? null : Math.Round(triad, 3),
                ["fraction_of_triad"] = noTriad || tg is null ? null : Math.Round(decodeGbPerS / triad, 4),
            };
            if (prof is not null)
            {
                doc["profile"] = new Dictionary<string, object>
                {
                    ["tokens"] = prof.Tokens,
                    ["nodes_per_token"] = prof.NodesPerToken,
                    ["build_once_ms"] = Math.Round(prof.BuildMs, 4),
                    ["allocate_once_ms"] = Math.Round(prof.AllocateMs, 4),
                    ["compute_ms"] = Math.Round(prof.ComputeMs, 4),
                    ["io_ms"] = Math.Round(prof.IoMs, 4),
                    ["per_op_ms"] = prof.PerOpMs.OrderByDescending(kv => kv.Value).ToDictionary(kv => kv.Key, kv => Math.Round(kv.Value, 4)),
                };
            }
            Console.WriteLine(JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
            return Task.FromResult(0);
        }

        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(name)}[/]: {nParams / 1e6:F1} M params, {modelBytes / 1048576.0:F1} MiB ({Markup.Escape(TypeSummary(model.Weights))}), " +
                               $"{threads} thread(s), KV {TypeTraits.Of(ctx.Params.KvType).Name}, {reps} repetition(s)");
        var table = new Table().Border(TableBorder.Rounded);
        table.AddColumn("test");
        table.AddColumn(new TableColumn("t/s").RightAligned());
        table.AddColumn(new TableColumn("ms/run").RightAligned());
        table.AddColumn(new TableColumn("weights GB/s").RightAligned());
        table.AddColumn(new TableColumn("of triad").RightAligned());
        if (pp is not null)
        {
            table.AddRow($"pp{nPrompt}", $"{pp.Mean:F2} ± {pp.Sd:F2}", $"{pp.MeanSeconds * 1e3:F1}", "-", "-");
        }
        if (tg is not null)
        {
            table.AddRow($"tg{nGen}", $"{tg.Mean:F2} ± {tg.Sd:F2}", $"{tg.MeanSeconds * 1e3:F1}", $"{decodeGbPerS:F2}",
                noTriad ? "-" : (decodeGbPerS / triad).ToString("P0", CultureInfo.InvariantCulture));
        }
        AnsiConsole.Write(table);
        if (!noTriad)
        {
            AnsiConsole.MarkupLine($"STREAM triad ({threads} thread(s)): {triad:F1} GB/s; decode streams {readBytes / 1048576.0:F1} MiB of weights per token");
        }
        if (prof is not null)
        {
            AnsiConsole.MarkupLine($"decode profile over {prof.Tokens} tokens ({prof.NodesPerToken} nodes per token), ms per token: " +
                                   $"compute {prof.ComputeMs:F3}, inputs/logits {prof.IoMs:F3}; once: graph build {prof.BuildMs:F3}, allocate {prof.AllocateMs:F3}");
            var ops = new Table().Border(TableBorder.Rounded);
            ops.AddColumn("op (one node per graph)");
            ops.AddColumn(new TableColumn("ms/token").RightAligned());
            ops.AddColumn(new TableColumn("share").RightAligned());
            double sum = prof.PerOpMs.Values.Sum();
            foreach ((string op, double ms) in prof.PerOpMs.OrderByDescending(kv => kv.Value))
            {
                ops.AddRow(Markup.Escape(op), $"{ms:F3}", (ms / sum).ToString("P1", CultureInfo.InvariantCulture));
            }
            if (prof.PerOpMs.Count > 0)
            {
                AnsiConsole.Write(ops);
            }
        }
        return Task.FromResult(0);
    }

    /// <summary>Tokens/s per repetition and their mean and sample standard deviation.</summary>
    internal sealed record Stats(double[] TokensPerSecond, double MeanSeconds)
    {
        public double Mean => TokensPerSecond.Average();
        public double Sd
        {
            get
            {
                if (TokensPerSecond.Length < 2) return 0;
                double mean = Mean;
                return Math.Sqrt(TokensPerSecond.Sum(x => (x - mean) * (x - mean)) / (TokensPerSecond.Length - 1));
            }
        }
    }

    private static Stats Measure(int reps, int tokens, Action run, CancellationToken ct)
    {
        run(); // warm-up: JIT, graph allocation, page-in of the mapped weights
        var tps = new double[reps];
        double total = 0;
        for (int r = 0; r < reps; r++)
        {
            ct.ThrowIfCancellationRequested();
            long t0 = Stopwatch.GetTimestamp();
            run();
            double s = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            total += s;
            tps[r] = tokens / s;
        }
        return new Stats(tps, total / reps);
    }

    private static Dictionary<string, object> StatsJson(int tokens, Stats s) => new()
    {
        ["tokens"] = tokens,
        ["tokens_per_s_mean"] = Math.Round(s.Mean, 3),
        ["tokens_per_s_sd"] = Math.Round(s.Sd, 3),
        ["tokens_per_s"] = s.TokensPerSecond.Select(x => Math.Round(x, 3)).ToArray(),
        ["ms_per_run_mean"] = Math.Round(s.MeanSeconds * 1e3, 3),
    };

    /// <summary>
    /// Bytes of every distinct weight tensor; bytes read per decoded token (all of them, except that only one row of
    /// the token-embedding table is read unless it doubles as the output matrix); parameter count.
    /// </summary>
    internal static (long ModelBytes, long ReadPerToken, long Params) WeightBytes(LlamaWeights w)
    {
        long all = 0, read = 0, n = 0;
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (Tensor t in w.All())
        {
            if (!seen.Add(t)) continue;
            all += t.ByteSize;
            n += t.ElementCount;
            bool embeddingOnly = ReferenceEquals(t, w.TokEmbd) && !ReferenceEquals(w.TokEmbd, w.Output);
            read += embeddingOnly ? t.Nb[1] : t.ByteSize;
        }
        return (all, read, n);
    }

    private static string TypeSummary(LlamaWeights w) =>
        string.Join(", ", w.Layers.SelectMany(l => new[] { l.Wq, l.Wk, l.Wv, l.Wo, l.WGate, l.WUp, l.WDown })
            .GroupBy(t => t.Type).OrderByDescending(g => g.Count()).Select(g => $"{g.Count()}x {TypeTraits.Of(g.Key).Name}"));
}
