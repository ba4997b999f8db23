using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Weft.Tokenizers;

namespace Weft.Cli.Commands;

/// <summary><c>weft bench tokenize</c>: single-thread encode throughput on War and Peace.</summary>
[Verb("bench tokenize", "tokenizer throughput (MB/s, one thread) on war-and-peace.txt", Usage = """
    weft bench tokenize [--assets DIR] [--corpus FILE] [--repeat N] [--json]
      --assets DIR   test assets folder (default $WEFT_ASSETS, else ../shared/assets)
      --corpus FILE  text to encode (default corpora/war-and-peace.txt under the assets)
      --repeat N     timed passes per tokenizer, best kept (default 3)
      --json         print results as JSON
    Wall-clock MB/s suffers when other processes share the core; MB/s per CPU-second is the process's own CPU time.
    Tokenizers: cl100k_base, o200k_base (tiktoken files), llama-spm (GGUF), llama3 (encoder.json + vocab.bpe).
    """)]
public sealed class BenchTokenizeCommand : ICommand
{
    /// <inheritdoc />
    public Task<int> RunAsync(CliArgs args, CancellationToken cancellationToken)
    {
        string assets = args.Option("--assets") ?? Environment.GetEnvironmentVariable("WEFT_ASSETS") ?? Path.Combine("..", "shared", "assets");
        string corpus = args.Option("--corpus") ?? Path.Combine(assets, "corpora", "war-and-peace.txt");
        int repeat = args.Int(3, 1, 100, "--repeat");
        bool json = args.Flag("--json");
        args.Positionals();
        args.EnsureAllUsed();
        if (!File.Exists(corpus))
        {
            throw new CliUsageException($"corpus not found: {corpus} (set --assets or WEFT_ASSETS)");
        }
        byte[] raw = File.ReadAllBytes(corpus);
        string text = Encoding.UTF8.GetString(raw);
        (string Name, string Path, string? Pre)[] cases =
        [
            ("cl100k_base", System.IO.Path.Combine(assets, "tokenizers", "tiktoken", "cl100k_base.tiktoken"), null),
            ("o200k_base", System.IO.Path.Combine(assets, "tokenizers", "tiktoken", "o200k_base.tiktoken"), null),
            ("llama-spm", System.IO.Path.Combine(assets, "tokenizers", "llamacpp", "ggml-vocab-llama-spm.gguf"), null),
            ("llama3", System.IO.Path.Combine(assets, "tokenizers", "llama3-bpe", "encoder.json"), "llama3"),
        ];
        var results = new List<Dictionary<string, object>>();
        foreach ((string name, string path, string? pre) in cases)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!File.Exists(path))
            {
                Console.Error.WriteLine($"skip {name}: {path} not found");
                continue;
            }
            var load = Stopwatch.StartNew();
            Tokenizer tok = TokenizerCli.Load(path, pre);
            load.Stop();
            int count = 0;
            double best = double.MaxValue;
            double cold = 0, bestCpu = double.MaxValue;
            using Process self = Process.GetCurrentProcess();
            for (int r = 0; r <= repeat; r++)
            {
                self.Refresh();
                TimeSpan cpu0 = self.TotalProcessorTime;
                var sw = Stopwatch.StartNew();
                count = tok.Encode(text, addSpecial: false).Length;
                sw.Stop();
                self.Refresh();
                double cpu = (self.TotalProcessorTime - cpu0).TotalSeconds;
                if (r == 0)
                {
                    cold = sw.Elapsed.TotalSeconds; // first pass: JIT and an empty word cache
                }
                else
                {
                    best = Math.Min(best, sw.Elapsed.TotalSeconds);
                    bestCpu = Math.Min(bestCpu, cpu);
                }
            }
            double mbps = raw.Length / 1e6 / best;
            results.Add(new Dictionary<string, object>
            {
                ["tokenizer"] = name, ["bytes"] = raw.Length, ["tokens"] = count, ["seconds"] = Math.Round(best, 4),
                ["mb_per_s"] = Math.Round(mbps, 2), ["cpu_mb_per_s"] = Math.Round(raw.Length / 1e6 / bestCpu, 2), ["cold_mb_per_s"] = Math.Round(raw.Length / 1e6 / cold, 2),
                ["load_ms"] = Math.Round(load.Elapsed.TotalMilliseconds, 1),
            });
            if (!json)
            {
                Console.WriteLine($"{name,-12} {mbps,8:F2} MB/s wall, {raw.Length / 1e6 / bestCpu,8:F2} MB/s per CPU-second  (first pass {raw.Length / 1e6 / cold:F2} MB/s)  {count,9} tokens  load {load.Elapsed.TotalMilliseconds:F0} ms");
            }
        }
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new { corpus, threads = 1, results }, new JsonSerializerOptions { WriteIndented = true }));
        }
        return Task.FromResult(0);
    }
}
