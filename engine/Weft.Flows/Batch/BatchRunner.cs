using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Weft.Flows.Batch;

/// <summary>Options of a batch run.</summary>
public sealed record BatchOptions
{
    /// <summary>Run directory (created; an existing run there is resumed unless <see cref="Restart"/>).</summary>
    public required string OutDir { get; init; }
    /// <summary>Flow input → expression with <c>${data.COL}</c> (and for evaluations <c>${outputs.NAME}</c>); unmapped inputs read the column of the same name.</summary>
    public IReadOnlyDictionary<string, string> Maps { get; init; } = new Dictionary<string, string>();
    /// <summary>Lines run at once.</summary>
    public int Concurrency { get; init; } = 1;
    /// <summary>Time limit per line (null: none).</summary>
    public TimeSpan? LineTimeout { get; init; }
    /// <summary>Discard an existing run in <see cref="OutDir"/> and start over.</summary>
    public bool Restart { get; init; }
}

/// <summary>Progress of a batch run.</summary>
/// <param name="Done">Lines finished (this session and earlier ones).</param>
/// <param name="Total">Lines in the data.</param>
/// <param name="Errors">Lines that failed.</param>
public readonly record struct BatchProgress(int Done, int Total, int Errors);

/// <summary>Aggregate of one numeric output over the successful lines.</summary>
/// <param name="Mean">Mean.</param>
/// <param name="Min">Minimum.</param>
/// <param name="Max">Maximum.</param>
/// <param name="Count">Lines with a number for this output.</param>
public sealed record MetricSummary(double Mean, double Min, double Max, int Count);

/// <summary>Summary of a batch run (also written as metrics.json and metrics.md).</summary>
public sealed class BatchSummary
{
    /// <summary>Data lines.</summary>
    public int Lines { get; set; }
    /// <summary>Lines that succeeded.</summary>
    public int Ok { get; set; }
    /// <summary>Lines that failed (flow error, timeout or malformed JSON).</summary>
    public int Errors { get; set; }
    /// <summary>Lines skipped this session because an earlier session finished them.</summary>
    public int Resumed { get; set; }
    /// <summary>Mean wall milliseconds per successful line.</summary>
    public double MeanMs { get; set; }
    /// <summary>Numeric outputs aggregated by name.</summary>
    public SortedDictionary<string, MetricSummary> Metrics { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Runs a flow over every line of a JSONL file: bounded concurrency, per-line timeout and error capture (a bad line
/// never stops the run; a malformed JSON line is reported with its line number), resumable (results are appended to
/// <c>results.jsonl</c> as lines finish; the same command continues where it stopped), and at the end writes
/// <c>outputs.jsonl</c> (sorted by line), <c>metrics.json</c>, <c>metrics.md</c> and <c>traces.jsonl</c>.
/// </summary>
public sealed class BatchRunner(FlowExecutor executor)
{
    /// <summary>Appended per finished line, in completion order.</summary>
    public const string ResultsFile = "results.jsonl";
    /// <summary>Final per-line results sorted by line.</summary>
    public const string OutputsFile = "outputs.jsonl";
    /// <summary>One compact trace per line.</summary>
    public const string TracesFile = "traces.jsonl";
    /// <summary>Run manifest (flow and data hashes) used to check a resume.</summary>
    public const string ManifestFile = "run.json";

    // Relaxed escaping keeps quotes and apostrophes readable in the JSONL files (they are data files, not HTML).
    private static readonly JsonSerializerOptions s_jsonl = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private sealed record Item(int Line, Dictionary<string, object?>? Data, Dictionary<string, object?>? Outputs, string? ParseError);

    /// <summary>Runs <paramref name="flow"/> over the JSONL file <paramref name="dataPath"/>.</summary>
    /// <exception cref="FileNotFoundException">No data file.</exception>
    /// <exception cref="InvalidOperationException">The run directory holds a different flow or data; pass <see cref="BatchOptions.Restart"/>.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; finished lines are kept for a resume.</exception>
    public Task<BatchSummary> RunAsync(FlowDocument flow, string dataPath, BatchOptions options, Action<BatchProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(dataPath))
        {
            throw new FileNotFoundException($"Data file '{dataPath}' does not exist.", dataPath);
        }
        var items = new List<Item>();
        int lineNo = 0;
        foreach (string raw in File.ReadLines(dataPath))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(raw))
            {
                continue;
            }
            try
            {
                using JsonDocument doc = JsonDocument.Parse(raw);
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                {
                    items.Add(new Item(lineNo, null, null, $"{dataPath}:{lineNo}: expected a JSON object, got {doc.RootElement.ValueKind.ToString().ToLowerInvariant()}"));
                    continue;
                }
                items.Add(new Item(lineNo, (Dictionary<string, object?>)FlowValue.FromJson(doc.RootElement)!, null, null));
            }
            catch (JsonException e)
            {
                items.Add(new Item(lineNo, null, null, $"{dataPath}:{lineNo}: malformed JSON ({e.Message})"));
            }
        }
        return RunItemsAsync(flow, items, Hash(File.ReadAllBytes(dataPath)), options, progress, cancellationToken);
    }

    /// <summary>Runs an evaluation flow over the successful lines of an earlier run (<c>outputs.jsonl</c> in <paramref name="runDir"/>); inputs read <c>${outputs.NAME}</c> and <c>${data.COL}</c>, unmapped ones the output or column of the same name.</summary>
    /// <exception cref="FileNotFoundException">The run has no outputs.jsonl (it did not finish).</exception>
    public Task<BatchSummary> EvalAsync(FlowDocument evalFlow, string runDir, BatchOptions options, Action<BatchProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        string path = Path.Combine(runDir, OutputsFile);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"'{runDir}' has no {OutputsFile}; finish the batch run first.", path);
        }
        var items = new List<Item>();
        foreach (string raw in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(raw))
            {
                continue;
            }
            using JsonDocument doc = JsonDocument.Parse(raw);
            JsonElement r = doc.RootElement;
            if (r.GetProperty("status").GetString() != "ok")
            {
                continue;
            }
            items.Add(new Item(r.GetProperty("line").GetInt32(), (Dictionary<string, object?>?)FlowValue.FromJson(r.GetProperty("data")), (Dictionary<string, object?>?)FlowValue.FromJson(r.GetProperty("outputs")), null));
        }
        return RunItemsAsync(evalFlow, items, Hash(File.ReadAllBytes(path)), options, progress, cancellationToken);
    }

    private async Task<BatchSummary> RunItemsAsync(FlowDocument flow, List<Item> items, string dataHash, BatchOptions o, Action<BatchProgress>? progress, CancellationToken ct)
    {
        if (o.Concurrency < 1)
        {
            throw new ArgumentException($"Concurrency must be at least 1, not {o.Concurrency}.");
        }
        FlowValidator.EnsureValid(flow, executor.Registry);
        foreach (string name in o.Maps.Keys)
        {
            if (!flow.Inputs.ContainsKey(name))
            {
                throw new ArgumentException($"--map {name}=...: the flow has no input '{name}' (inputs: {string.Join(", ", flow.Inputs.Keys)}).");
            }
        }
        Directory.CreateDirectory(o.OutDir);
        string manifestPath = Path.Combine(o.OutDir, ManifestFile);
        string resultsPath = Path.Combine(o.OutDir, ResultsFile);
        string tracesPath = Path.Combine(o.OutDir, TracesFile);
        var manifest = new JsonObject
        {
            ["flowHash"] = Hash(Encoding.UTF8.GetBytes(flow.ToJson())),
            ["dataHash"] = dataHash,
            ["maps"] = FlowValue.ToJsonNode(o.Maps.ToDictionary(kv => kv.Key, kv => (object?)kv.Value)),
        };
        var done = new Dictionary<int, JsonObject>();
        if (!o.Restart && File.Exists(manifestPath))
        {
            JsonNode? old = JsonNode.Parse(File.ReadAllText(manifestPath));
            if (old?.ToJsonString() != manifest.ToJsonString())
            {
                throw new InvalidOperationException($"'{o.OutDir}' holds a run of a different flow, data or --map; use --restart to start over or pick another --out.");
            }
            LoadDone(resultsPath, done);
        }
        else
        {
            foreach (string f in new[] { resultsPath, tracesPath, Path.Combine(o.OutDir, OutputsFile), Path.Combine(o.OutDir, "metrics.json"), Path.Combine(o.OutDir, "metrics.md") })
            {
                File.Delete(f);
            }
            File.WriteAllText(manifestPath, manifest.ToJsonString());
        }
        var summary = new BatchSummary { Lines = items.Count, Resumed = done.Count };
        int errors = done.Values.Count(v => v["status"]!.GetValue<string>() != "ok");
        int finished = done.Count;
        var gate = new object();
        progress?.Invoke(new BatchProgress(finished, items.Count, errors));
        await using (var results = new StreamWriter(new FileStream(resultsPath, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false)))
        await using (var traces = new StreamWriter(new FileStream(tracesPath, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false)))
        {
            List<Item> pending = items.Where(i => !done.ContainsKey(i.Line)).ToList();
            await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = o.Concurrency, CancellationToken = ct }, async (item, token) =>
            {
                (JsonObject rec, FlowTrace? trace) = await RunLineAsync(flow, item, o, token).ConfigureAwait(false);
                token.ThrowIfCancellationRequested(); // a line cut short by cancellation is not recorded: the resume re-runs it
                lock (gate)
                {
                    results.WriteLine(rec.ToJsonString(s_jsonl));
                    results.Flush();
                    if (trace is not null)
                    {
                        traces.WriteLine(trace.ToJson(indented: false));
                        traces.Flush();
                    }
                    done[item.Line] = rec;
                    finished++;
                    if (rec["status"]!.GetValue<string>() != "ok")
                    {
                        errors++;
                    }
                    progress?.Invoke(new BatchProgress(finished, items.Count, errors));
                }
            }).ConfigureAwait(false);
        }

        // Final files: sorted outputs and metrics.
        var sorted = done.OrderBy(kv => kv.Key).Select(kv => kv.Value).ToList();
        File.WriteAllLines(Path.Combine(o.OutDir, OutputsFile), sorted.Select(r => r.ToJsonString(s_jsonl)));
        var numbers = new SortedDictionary<string, List<double>>(StringComparer.Ordinal);
        double totalMs = 0;
        foreach (JsonObject r in sorted)
        {
            if (r["status"]!.GetValue<string>() != "ok")
            {
                summary.Errors++;
                continue;
            }
            summary.Ok++;
            totalMs += r["ms"]!.GetValue<double>();
            foreach ((string k, JsonNode? v) in r["outputs"]!.AsObject())
            {
                if (v is JsonValue jv && jv.TryGetValue(out double d))
                {
                    (numbers.TryGetValue(k, out List<double>? l) ? l : numbers[k] = new List<double>()).Add(d);
                }
            }
        }
        summary.MeanMs = summary.Ok > 0 ? totalMs / summary.Ok : 0;
        foreach ((string k, List<double> l) in numbers)
        {
            summary.Metrics[k] = new MetricSummary(l.Average(), l.Min(), l.Max(), l.Count);
        }
        File.WriteAllText(Path.Combine(o.OutDir, "metrics.json"), MetricsJson(summary));
        File.WriteAllText(Path.Combine(o.OutDir, "metrics.md"), MetricsMarkdown(summary));
        return summary;
    }

    private async Task<(JsonObject, FlowTrace?)> RunLineAsync(FlowDocument flow, Item item, BatchOptions o, CancellationToken ct)
    {
        var rec = new JsonObject { ["line"] = item.Line };
        if (item.ParseError is not null)
        {
            rec["status"] = "error";
            rec["error"] = item.ParseError;
            rec["data"] = null;
            rec["outputs"] = new JsonObject();
            rec["ms"] = 0.0;
            return (rec, null);
        }
        var sw = System.Diagnostics.Stopwatch.StartNew();
        object? Lookup(string key)
        {
            if (key.StartsWith("data.", StringComparison.Ordinal))
            {
                return item.Data?.GetValueOrDefault(key[5..]);
            }
            if (key.StartsWith("outputs.", StringComparison.Ordinal))
            {
                return item.Outputs?.GetValueOrDefault(key[8..]);
            }
            return null;
        }
        var inputs = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (string name in flow.Inputs.Keys)
        {
            if (o.Maps.TryGetValue(name, out string? expr))
            {
                inputs[name] = FlowEnvironment.Expand(expr, Lookup);
            }
            else if (item.Outputs is not null && item.Outputs.TryGetValue(name, out object? ov))
            {
                inputs[name] = ov;
            }
            else if (item.Data is not null && item.Data.TryGetValue(name, out object? dv))
            {
                inputs[name] = dv;
            }
        }
        rec["data"] = FlowValue.ToJsonNode(item.Data);
        using var lineCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (o.LineTimeout is TimeSpan t)
        {
            lineCts.CancelAfter(t);
        }
        try
        {
            FlowRunResult r = await executor.RunAsync(flow, inputs, new FlowRunOptions { RunId = $"line-{item.Line}" }, lineCts.Token).ConfigureAwait(false);
            rec["outputs"] = FlowValue.ToJsonNode(r.Outputs);
            if (r.Status == FlowRunStatus.Succeeded)
            {
                rec["status"] = "ok";
            }
            else
            {
                rec["status"] = "error";
                rec["error"] = r.Status == FlowRunStatus.Cancelled && !ct.IsCancellationRequested
                    ? $"line {item.Line}: timed out after {o.LineTimeout!.Value.TotalSeconds:0.###} s"
                    : $"line {item.Line}: " + string.Join("; ", r.Errors);
            }
            rec["ms"] = sw.Elapsed.TotalMilliseconds;
            return (rec, r.Trace);
        }
        catch (FlowValidationException e)
        {
            rec["status"] = "error";
            rec["error"] = $"line {item.Line}: " + string.Join("; ", e.Errors);
            rec["outputs"] = new JsonObject();
            rec["ms"] = sw.Elapsed.TotalMilliseconds;
            return (rec, null);
        }
    }

    private static void LoadDone(string resultsPath, Dictionary<int, JsonObject> done)
    {
        if (!File.Exists(resultsPath))
        {
            return;
        }
        // Keep every complete line; a torn last line (killed mid-write) is cut off so appends stay valid JSONL.
        byte[] bytes = File.ReadAllBytes(resultsPath);
        int goodEnd = 0;
        int start = 0;
        for (int i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] != (byte)'\n')
            {
                continue;
            }
            string line = Encoding.UTF8.GetString(bytes, start, i - start).Trim();
            start = i + 1;
            if (line.Length == 0)
            {
                goodEnd = start;
                continue;
            }
            try
            {
                var rec = JsonNode.Parse(line)!.AsObject();
                done[rec["line"]!.GetValue<int>()] = rec;
                goodEnd = start;
            }
            catch (JsonException)
            {
                break;
            }
        }
        if (goodEnd < bytes.Length)
        {
            using var fs = new FileStream(resultsPath, FileMode.Open, FileAccess.Write);
            fs.SetLength(goodEnd);
        }
    }

    /// <summary>The summary as JSON.</summary>
    public static string MetricsJson(BatchSummary s)
    {
        var metrics = new JsonObject();
        foreach ((string k, MetricSummary m) in s.Metrics)
        {
            metrics[k] = new JsonObject { ["mean"] = m.Mean, ["min"] = m.Min, ["max"] = m.Max, ["count"] = m.Count };
        }
        var o = new JsonObject { ["lines"] = s.Lines, ["ok"] = s.Ok, ["errors"] = s.Errors, ["meanMs"] = s.MeanMs, ["metrics"] = metrics };
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>The summary as a Markdown table.</summary>
    public static string MetricsMarkdown(BatchSummary s)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"Lines: {s.Lines}, ok: {s.Ok}, errors: {s.Errors}, mean {s.MeanMs:F1} ms/line\n\n");
        sb.Append("| metric | mean | min | max | n |\n|---|---:|---:|---:|---:|\n");
        foreach ((string k, MetricSummary m) in s.Metrics)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| {k} | {m.Mean:G6} | {m.Min:G6} | {m.Max:G6} | {m.Count} |\n");
        }
        return sb.ToString();
    }

    /// <summary>Reads metrics.json of a run directory.</summary>
    /// <exception cref="FileNotFoundException">No metrics.json there.</exception>
    public static BatchSummary ReadMetrics(string runDir)
    {
        string path = Path.Combine(runDir, "metrics.json");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"'{runDir}' has no metrics.json (is it a finished batch run directory?).", path);
        }
        JsonObject o = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var s = new BatchSummary
        {
            Lines = o["lines"]!.GetValue<int>(), Ok = o["ok"]!.GetValue<int>(), Errors = o["errors"]!.GetValue<int>(), MeanMs = o["meanMs"]!.GetValue<double>(),
        };
        foreach ((string k, JsonNode? v) in o["metrics"]!.AsObject())
        {
            s.Metrics[k] = new MetricSummary(v!["mean"]!.GetValue<double>(), v["min"]!.GetValue<double>(), v["max"]!.GetValue<double>(), v["count"]!.GetValue<int>());
        }
        return s;
    }

    private static string Hash(byte[] data) => Convert.ToHexString(SHA256.HashData(data));
}
