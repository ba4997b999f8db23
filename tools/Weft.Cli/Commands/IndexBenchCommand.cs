using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Weft.Models.Llama;
using Weft.Search.Hnsw;
using Weft.Search.Vectors;

namespace Weft.Cli.Commands;

/// <summary><c>weft index bench</c>: HNSW recall and speed on fvecs data (SIFT-style), for comparison with hnswlib/FAISS.</summary>
[Verb("index bench", "HNSW recall@1/10, QPS, build time and memory on .fvecs data",
    Usage = """
    weft index bench --base B.fvecs --query Q.fvecs [--gt G.ivecs] [-M 16] [--efc 200] [--ef 10,20,40,80,160]
                     [--threads 1,2] [--build-threads N] [--metric l2|ip|cosine] [--storage f32|f16|int8] [--json]
                     [--exact-backend cpu|vulkan|auto]

    Without --gt the ground truth is computed by exact search. Build uses --build-threads (default: the largest
    --threads value). QPS is measured per thread count over all queries (repeated for at least 0.5 s), one query at a time per thread.
    The exact pass runs without --gt, or with --gt when --exact-backend is given (its recall@10 against the file is
    then reported): cpu is the SIMD scan (default), vulkan any Vulkan device (lavapipe included), auto a GPU when present.
    --json prints {"build_seconds", "memory_bytes", "exact_backend", "exact_qps", "exact_recall10",
    "rows": [{ef, threads, recall1, recall10, qps}]}.
    """)]
public sealed class IndexBenchCommand : ICommand
{
    /// <inheritdoc/>
    public Task<int> RunAsync(CliArgs args, CancellationToken cancellationToken)
    {
        string basePath = args.Required("--base");
        string queryPath = args.Required("--query");
        string? gtPath = args.Option("--gt");
        int m = args.Int(16, 2, 1024, "-M", "--M", "-m");
        int efc = args.Int(200, 1, 100000, "--efc", "--ef-construction");
        int[] efs = ParseList(args.Option("--ef") ?? "10,20,40,80,160", "--ef");
        int[] threads = ParseList(args.Option("--threads") ?? "1", "--threads");
        int buildThreads = args.Int(threads.Max(), 1, 1024, "--build-threads");
        DistanceMetric metric = (args.Option("--metric") ?? "l2") switch
        {
            "l2" => DistanceMetric.L2,
            "ip" => DistanceMetric.InnerProduct,
            "cosine" => DistanceMetric.Cosine,
            string s => throw new CliUsageException($"--metric must be l2, ip or cosine, not '{s}'"),
        };
        VectorStorage storage = (args.Option("--storage") ?? "f32") switch
        {
            "f32" => VectorStorage.F32,
            "f16" => VectorStorage.F16,
            "int8" => VectorStorage.Int8,
            string s => throw new CliUsageException($"--storage must be f32, f16 or int8, not '{s}'"),
        };
        string? exactOption = args.Option("--exact-backend");
        BackendChoice exactBackend = (exactOption ?? "cpu") switch
        {
            "cpu" => BackendChoice.Cpu,
            "vulkan" => BackendChoice.Vulkan,
            "auto" => BackendChoice.Auto,
            string s => throw new CliUsageException($"--exact-backend must be cpu, vulkan or auto, not '{s}'"),
        };
        bool json = args.Flag("--json");
        args.EnsureAllUsed();

        (float[] data, int n, int dim) = VecsFile.ReadFvecs(basePath);
        (float[] queries, int nq, int qdim) = VecsFile.ReadFvecs(queryPath);
        if (qdim != dim)
        {
            throw new InvalidDataException($"{queryPath} has dimension {qdim}, {basePath} has {dim}");
        }
        int[][]? fileGt = gtPath is null ? null : LoadGroundTruth(gtPath, nq);
        ExactPass? exactPass = fileGt is null || exactOption is not null
            ? RunExact(data, n, dim, queries, nq, metric, exactBackend)
            : null;
        int[][] gt = fileGt ?? exactPass!.Labels;
        double? exactRecall10 = null;
        if (exactPass is not null && fileGt is not null)
        {
            exactRecall10 = Enumerable.Range(0, nq).Sum(i => Recall10(exactPass.Labels[i].Select(x => (long)x), fileGt[i])) / nq;
        }

        long memBefore = GC.GetTotalMemory(true);
        var sw = Stopwatch.StartNew();
        using var index = new HnswIndex(new HnswOptions { Dimension = dim, Metric = metric, Storage = storage, M = m, EfConstruction = efc, Capacity = n });
        long[] labels = Enumerable.Range(0, n).Select(i => (long)i).ToArray();
        index.AddRange(data, labels, buildThreads);
        double buildSeconds = sw.Elapsed.TotalSeconds;
        long memory = index.MemoryBytes;

        var rows = new List<Row>();
        foreach (int ef in efs)
        {
            foreach (int t in threads)
            {
                cancellationToken.ThrowIfCancellationRequested();
                long[][] found = new long[nq][];
                // One warm-up pass so that JIT tiering does not count against the first ef.
                if (rows.Count == 0)
                {
                    for (int i = 0; i < Math.Min(nq, 200); i++)
                    {
                        index.Search(queries.AsSpan(i * dim, dim), 10, ef);
                    }
                }
                // Repeat the query set until at least half a second has passed, so short runs are not all noise.
                var qsw = Stopwatch.StartNew();
                int passes = 0;
                do
                {
                    if (t == 1)
                    {
                        for (int i = 0; i < nq; i++)
                        {
                            found[i] = index.Search(queries.AsSpan(i * dim, dim), 10, ef).Select(h => h.Label).ToArray();
                        }
                    }
                    else
                    {
                        var po = new ParallelOptions { MaxDegreeOfParallelism = t };
                        Parallel.For(0, nq, po, i => found[i] = index.Search(queries.AsSpan(i * dim, dim), 10, ef).Select(h => h.Label).ToArray());
                    }
                    passes++;
                }
                while (qsw.Elapsed.TotalSeconds < 0.5);
                double secs = qsw.Elapsed.TotalSeconds;
                double r1 = 0, r10 = 0;
                for (int i = 0; i < nq; i++)
                {
                    r1 += found[i].Length > 0 && found[i][0] == gt[i][0] ? 1 : 0;
                    r10 += Recall10(found[i], gt[i]);
                }
                rows.Add(new Row(ef, t, r1 / nq, r10 / nq, (double)passes * nq / secs));
            }
        }

        if (json)
        {
            var doc = new
            {
                n,
                dim,
                queries = nq,
                M = m,
                ef_construction = efc,
                build_threads = buildThreads,
                storage = storage.ToString(),
                build_seconds = buildSeconds,
                memory_bytes = memory,
                exact_backend = exactPass?.Backend,
                exact_qps = exactPass?.Qps,
                exact_recall10 = exactRecall10,
                rows = rows.Select(r => new { ef = r.Ef, threads = r.Threads, recall1 = r.Recall1, recall10 = r.Recall10, qps = r.Qps }),
            };
            Console.WriteLine(JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }));
        }
        else
        {
            Console.WriteLine($"base {n} x {dim}, {nq} queries, M={m} efConstruction={efc} storage={storage}");
            Console.WriteLine($"build: {buildSeconds:F2} s on {buildThreads} thread(s), index memory {memory / (1024.0 * 1024.0):F1} MiB (managed heap growth {(GC.GetTotalMemory(false) - memBefore) / (1024.0 * 1024.0):F1} MiB)");
            if (exactPass is not null)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"exact: {exactPass.Qps:F0} QPS on {exactPass.Backend} ({exactPass.Seconds:F3} s for {nq} queries){(exactRecall10 is double er ? $", recall@10 vs --gt {er:F4}" : "")}"));
            }
            Console.WriteLine();
            Console.WriteLine("    ef  threads  recall@1  recall@10        QPS  memory MiB");
            foreach (Row r in rows)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{r.Ef,6}  {r.Threads,7}  {r.Recall1,8:F4}  {r.Recall10,9:F4}  {r.Qps,9:F0}  {memory / (1024.0 * 1024.0),10:F1}"));
            }
        }
        return Task.FromResult(0);
    }

    // Share of the first ten ground-truth labels among the labels found.
    private static double Recall10(IEnumerable<long> found, int[] truthRow)
    {
        var truth = new HashSet<long>(truthRow.Take(10).Select(x => (long)x));
        return found.Count(truth.Contains) / (double)Math.Min(10, truth.Count);
    }

    private sealed record Row(int Ef, int Threads, double Recall1, double Recall10, double Qps);

    private static int[] ParseList(string s, string name)
    {
        try
        {
            int[] v = s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray();
            if (v.Length == 0 || v.Any(x => x < 1))
            {
                throw new FormatException();
            }
            return v;
        }
        catch (FormatException)
        {
            throw new CliUsageException($"{name} must be a comma-separated list of positive integers, not '{s}'");
        }
    }

    private sealed record ExactPass(int[][] Labels, string Backend, double Seconds, double Qps);

    private static int[][] LoadGroundTruth(string gtPath, int nq)
    {
        (int[] gt, int gn, int gk) = VecsFile.ReadIvecs(gtPath);
        if (gn != nq)
        {
            throw new InvalidDataException($"{gtPath} has {gn} rows, the query file has {nq}");
        }
        if (gk < 10)
        {
            throw new InvalidDataException($"{gtPath} has {gk} neighbours per query; recall@10 needs at least 10");
        }
        return Enumerable.Range(0, nq).Select(i => gt.AsSpan(i * gk, gk).ToArray()).ToArray();
    }

    private static ExactPass RunExact(float[] data, int n, int dim, float[] queries, int nq, DistanceMetric metric, BackendChoice backend)
    {
        // Device setup and upload are not timed; a warm-up batch of a few queries builds the pipelines and JITs the scan.
        using var exact = new ExactIndex(data, n, dim, metric, backend);
        string name = exact.Engine is { } e ? $"{e.BackendName} [{e.DeviceKind}]" : "CPU SIMD scan";
        int warm = Math.Min(nq, 8);
        exact.SearchBatch(queries.AsSpan(0, warm * dim).ToArray(), warm, 10);
        var sw = Stopwatch.StartNew();
        SearchHit[][] hits = exact.SearchBatch(queries, nq, 10);
        double secs = sw.Elapsed.TotalSeconds;
        int[][] labels = hits.Select(h => h.Select(x => (int)x.Label).ToArray()).ToArray();
        return new ExactPass(labels, name, secs, nq / Math.Max(secs, 1e-9));
    }
}
