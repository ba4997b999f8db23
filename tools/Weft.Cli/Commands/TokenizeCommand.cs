using System.Text;
using Weft.Tokenizers;

namespace Weft.Cli.Commands;

/// <summary><c>weft tokenize</c>: prints the token ids of a text.</summary>
[Verb("tokenize", "print the token ids of a text", Usage = """
    weft tokenize -m FILE (--text S | --file F) [--no-bos] [--special] [--json] [--pre NAME]
      -m, --model FILE  tokenizer: a GGUF, tokenizer.json, *.tiktoken, encoder.json (vocab.bpe beside it) or vocab.bpe
      --text S          text to encode
      --file F          read the text from a file (UTF-8)
      --no-bos          do not add BOS/EOS (CLS/SEP) even where the model asks for them
      --special         recognise control tokens written in the text (e.g. <|endoftext|>)
      --json            print a JSON array instead of space-separated ids
      --pre NAME        pre-tokenizer for files that do not name one (e.g. llama3 for Llama 3's encoder.json)
    """)]
public sealed class TokenizeCommand : ICommand
{
    /// <inheritdoc />
    public Task<int> RunAsync(CliArgs args, CancellationToken cancellationToken)
    {
        string model = args.Required("-m", "--model");
        string? text = args.Option("--text");
        string? file = args.Option("--file");
        bool noBos = args.Flag("--no-bos");
        bool special = args.Flag("--special");
        bool json = args.Flag("--json");
        string? pre = args.Option("--pre");
        args.Positionals();
        args.EnsureAllUsed();
        if ((text is null) == (file is null))
        {
            throw new CliUsageException("give exactly one of --text or --file");
        }
        if (file is not null && !File.Exists(file))
        {
            throw new CliUsageException($"input file not found: {file}");
        }
        Tokenizer tok = TokenizerCli.Load(model, pre);
        string input = text ?? Encoding.UTF8.GetString(File.ReadAllBytes(file!));
        int[] ids = tok.Encode(input, addSpecial: !noBos, parseSpecial: special);
        Console.WriteLine(json ? "[" + string.Join(",", ids) + "]" : string.Join(" ", ids));
        return Task.FromResult(0);
    }
}

/// <summary>Shared loading for the tokenizer verbs.</summary>
internal static class TokenizerCli
{
    public static Tokenizer Load(string path, string? pre)
    {
        if (!File.Exists(path))
        {
            throw new CliUsageException($"tokenizer file not found: {path}");
        }
        TokenizerLoadOptions? options = null;
        string name = Path.GetFileName(path).ToLowerInvariant();
        bool llama3 = pre is "llama3" || (pre is null && name == "encoder.json" && Path.GetFullPath(path).Contains("llama3", StringComparison.OrdinalIgnoreCase));
        if (llama3)
        {
            options = new TokenizerLoadOptions
            {
                PreTokenizer = "llama3",
                SpecialTokens = new Dictionary<string, int> { ["<|begin_of_text|>"] = 128000, ["<|end_of_text|>"] = 128001 },
                BosToken = "<|begin_of_text|>",
            };
        }
        else if (pre is not null)
        {
            options = new TokenizerLoadOptions { PreTokenizer = pre };
        }
        return TokenizerLoader.Load(path, options);
    }
}
