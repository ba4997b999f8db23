using System.Text.Json;
using Weft.Models.Llama;

namespace Weft.Cli.Commands;

[Verb("generate", "Generate text from a prompt with a GGUF or llama2.c model", Usage =
    "weft generate -m MODEL -p PROMPT [options] [--json]\n" +
    "  -p, --prompt TEXT       the prompt (or -f FILE)\n" +
    "  -f, --file FILE         read the prompt from a file\n" +
    "      --no-bos            do not add the BOS token\n" +
    "      --special           parse special-token text in the prompt\n" +
    "      --json              print one JSON object: prompt_ids, ids, text, stop_reason, backend, timings\n" +
    ModelArgs.Usage + "\n" + ModelArgs.SamplingUsage)]
internal sealed class GenerateCommand : ICommand
{
    public async Task<int> RunAsync(CliArgs args, CancellationToken ct)
    {
        ModelArgs m = ModelArgs.Parse(args);
        GenerationParams gp = ModelArgs.ParseGeneration(args);
        string? prompt = args.Option("-p", "--prompt");
        string? file = args.Option("-f", "--file");
        bool noBos = args.Flag("--no-bos");
        bool special = args.Flag("--special");
        bool json = args.Flag("--json");
        args.EnsureAllUsed();
        if (prompt is null == file is null)
        {
            throw new CliUsageException("give exactly one of -p PROMPT or -f FILE");
        }
        prompt ??= File.ReadAllText(file!);
        gp = gp with { AddBos = !noBos, ParseSpecial = special };

        using LlamaModel model = LlamaModel.Load(m.Model, m.Tokenizer, m.Load);
        using LlamaContext ctx = model.CreateContext(m.Context);
        if (!json)
        {
            Console.Error.WriteLine(ctx.BackendNote);
        }
        var gen = new Generator(ctx);
        var ids = new List<int>();
        var text = new System.Text.StringBuilder();
        await foreach (GeneratedToken t in gen.GenerateAsync(prompt, gp, ct).ConfigureAwait(false))
        {
            if (t.Id >= 0)
            {
                ids.Add(t.Id);
            }
            text.Append(t.Text);
            if (!json)
            {
                Console.Out.Write(t.Text);
                Console.Out.Flush();
            }
        }
        GenerationStats st = gen.LastStats;
        if (json)
        {
            using var w = new Utf8JsonWriter(Console.OpenStandardOutput(), new JsonWriterOptions { Indented = false });
            w.WriteStartObject();
            w.WritePropertyName("prompt_ids");
            JsonSerializer.Serialize(w, gen.LastPromptIds.ToArray(), CliJson.Default.Int32Array);
            w.WritePropertyName("ids");
            JsonSerializer.Serialize(w, ids.ToArray(), CliJson.Default.Int32Array);
            w.WriteString("text", text.ToString());
            w.WriteString("stop_reason", st.StopReason);
            w.WriteString("backend", ctx.BackendNote);
            w.WriteStartObject("timings");
            w.WriteNumber("prompt_tokens", st.PromptTokens);
            w.WriteNumber("prompt_ms", st.PromptTime.TotalMilliseconds);
            w.WriteNumber("prompt_tokens_per_second", st.PromptTokensPerSecond);
            w.WriteNumber("generated_tokens", st.GeneratedTokens);
            w.WriteNumber("generation_ms", st.GenerationTime.TotalMilliseconds);
            w.WriteNumber("tokens_per_second", st.TokensPerSecond);
            w.WriteEndObject();
            w.WriteEndObject();
            w.Flush();
            Console.Out.WriteLine();
        }
        else
        {
            Console.Out.WriteLine();
            Console.Error.WriteLine($"prompt: {st.PromptTokens} tokens in {st.PromptTime.TotalMilliseconds:F1} ms ({st.PromptTokensPerSecond:F1} t/s); " +
                $"generated: {st.GeneratedTokens} tokens in {st.GenerationTime.TotalMilliseconds:F1} ms ({st.TokensPerSecond:F1} t/s); stop: {st.StopReason}");
        }
        return 0;
    }
}
