using Weft.Models.Llama;
using Weft.Models.Templates;

namespace Weft.Cli.Commands;

[Verb("chat", "Interactive chat with a model's chat template (history kept)", Usage =
    "weft chat -m MODEL [--system TEXT] [options]\n" +
    "  Type a message and press Enter; an empty line or EOF (Ctrl-D) ends, /reset clears the history.\n" +
    "      --system TEXT       system prompt\n" +
    "      --template FILE     Jinja chat template to use instead of the model's (default: the GGUF's tokenizer.chat_template, else ChatML)\n" +
    ModelArgs.Usage + "\n" + ModelArgs.SamplingUsage)]
internal sealed class ChatCommand : ICommand
{
    // llama.cpp falls back to ChatML when a model has no template.
    internal const string ChatMl =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

    public async Task<int> RunAsync(CliArgs args, CancellationToken ct)
    {
        ModelArgs m = ModelArgs.Parse(args);
        GenerationParams gp = ModelArgs.ParseGeneration(args);
        string? system = args.Option("--system");
        string? templateFile = args.Option("--template");
        args.EnsureAllUsed();

        using LlamaModel model = LlamaModel.Load(m.Model, m.Tokenizer, m.Load);
        using LlamaContext ctx = model.CreateContext(m.Context);
        string bos = model.Tokenizer.BosId >= 0 ? model.Tokenizer.TokenText(model.Tokenizer.BosId) : "";
        string eos = model.Tokenizer.EosId >= 0 ? model.Tokenizer.TokenText(model.Tokenizer.EosId) : "";
        ChatTemplate template = templateFile is not null ? new ChatTemplate(File.ReadAllText(templateFile), bos, eos)
            : model.ChatTemplate ?? new ChatTemplate(ChatMl, bos, eos);
        Console.Error.WriteLine(ctx.BackendNote);
        Console.Error.WriteLine(model.ChatTemplate is null && templateFile is null ? "chat template: ChatML (the model has none)" : "chat template: the model's");

        var history = new List<ChatMessage>();
        if (system is not null)
        {
            history.Add(new ChatMessage("system", system));
        }
        var gen = new Generator(ctx);
        // The rendered prompt carries BOS itself when the template writes it; parse special tokens in it.
        GenerationParams turn = gp with { AddBos = !template.Source.Contains("bos_token", StringComparison.Ordinal), ParseSpecial = true };
        while (!ct.IsCancellationRequested)
        {
            Console.Error.Write("> ");
            string? line = Console.In.ReadLine();
            if (string.IsNullOrWhiteSpace(line))
            {
                break;
            }
            if (line.Trim() == "/reset")
            {
                history.RemoveAll(h => h.Role != "system");
                ctx.Clear();
                continue;
            }
            history.Add(new ChatMessage("user", line));
            string prompt = template.Render(history, addGenerationPrompt: true);
            var reply = new System.Text.StringBuilder();
            await foreach (GeneratedToken t in gen.GenerateAsync(prompt, turn, ct).ConfigureAwait(false))
            {
                reply.Append(t.Text);
                Console.Out.Write(t.Text);
                Console.Out.Flush();
            }
            Console.Out.WriteLine();
            history.Add(new ChatMessage("assistant", reply.ToString().Trim()));
        }
        return 0;
    }
}
