using System.Globalization;
using System.Text.Json;
using Weft.Models.Llama;

namespace Weft.Cli.Commands;

[Verb("perplexity", "Perplexity of a text file under a model (llama.cpp's method)", Usage =
    "weft perplexity -m MODEL -f FILE [-c CTX] [--json] [options]\n" +
    "  -f, --file FILE         UTF-8 text to score\n" +
    "  -c, --ctx N             chunk length (default 512): non-overlapping chunks, each scored on its second half\n" +
    "      --json              print {ppl, stderr, chunks, scored_tokens, chunk_ppl}\n" +
    ModelArgs.Usage)]
internal sealed class PerplexityCommand : ICommand
{
    public Task<int> RunAsync(CliArgs args, CancellationToken ct)
    {
        string file = args.Required("-f", "--file");
        bool json = args.Flag("--json");
        ModelArgs m = ModelArgs.Parse(args);
        args.EnsureAllUsed();
        int nCtx = m.Context.ContextSize > 0 ? m.Context.ContextSize : 512;
        string text = File.ReadAllText(file);
        using LlamaModel model = LlamaModel.Load(m.Model, m.Tokenizer, m.Load);
        using LlamaContext ctx = model.CreateContext(m.Context with { ContextSize = nCtx, BatchSize = Math.Max(m.Context.BatchSize, nCtx) });
        int[] tokens = model.Tokenizer.Encode(text, addSpecial: true); // BOS first, as llama.cpp tokenizes
        if (!json)
        {
            Console.Error.WriteLine(ctx.BackendNote);
            Console.Error.WriteLine($"tokenized {file}: {tokens.Length} tokens; {tokens.Length / nCtx} chunks of {nCtx}");
        }
        PerplexityResult r = Perplexity.Compute(ctx, tokens, nCtx, json ? null : (c, ppl) => Console.Write($"[{c + 1}]{ppl.ToString("F4", CultureInfo.InvariantCulture)},"), ct);
        if (json)
        {
            using var w = new Utf8JsonWriter(Console.OpenStandardOutput());
            w.WriteStartObject();
            w.WriteNumber("ppl", r.Ppl);
            w.WriteNumber("stderr", r.StdErr);
            w.WriteNumber("chunks", r.Chunks);
            w.WriteNumber("scored_tokens", r.ScoredTokens);
            w.WritePropertyName("chunk_ppl");
            JsonSerializer.Serialize(w, r.ChunkPpl.ToArray(), CliJson.Default.DoubleArray);
            w.WriteEndObject();
            w.Flush();
            Console.WriteLine();
        }
        else
        {
            Console.WriteLine();
            Console.WriteLine($"Final estimate: PPL = {r.Ppl.ToString("F4", CultureInfo.InvariantCulture)} +/- {r.StdErr.ToString("F5", CultureInfo.InvariantCulture)}");
        }
        return Task.FromResult(0);
    }
}
