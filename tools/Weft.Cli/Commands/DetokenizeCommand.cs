using System.Globalization;
using Weft.Tokenizers;

namespace Weft.Cli.Commands;

/// <summary><c>weft detokenize</c>: prints the text of token ids.</summary>
[Verb("detokenize", "print the text of token ids", Usage = """
    weft detokenize -m FILE --ids 1,2,3 [--skip-special] [--pre NAME]
      -m, --model FILE  tokenizer file (as for weft tokenize)
      --ids LIST        comma- or space-separated token ids
      --skip-special    leave out control tokens (BOS, EOS, ...)
    """)]
public sealed class DetokenizeCommand : ICommand
{
    /// <inheritdoc />
    public Task<int> RunAsync(CliArgs args, CancellationToken cancellationToken)
    {
        string model = args.Required("-m", "--model");
        string idList = args.Required("--ids");
        bool skip = args.Flag("--skip-special");
        string? pre = args.Option("--pre");
        args.Positionals();
        args.EnsureAllUsed();
        var ids = new List<int>();
        foreach (string part in idList.Split([',', ' ', '[', ']'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int id))
            {
                throw new CliUsageException($"--ids: '{part}' is not an integer token id");
            }
            ids.Add(id);
        }
        Tokenizer tok = TokenizerCli.Load(model, pre);
        foreach (int id in ids)
        {
            if (id < 0 || id >= tok.VocabSize)
            {
                throw new CliUsageException($"--ids: token id {id} is not in the vocabulary (valid ids: 0..{tok.VocabSize - 1})");
            }
        }
        Console.Write(tok.Decode(ids.ToArray(), skip));
        Console.WriteLine();
        return Task.FromResult(0);
    }
}
