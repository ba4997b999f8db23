using System.Text.RegularExpressions;
using Weft.Tokenizers;

namespace Weft.Search.Text;

/// <summary>Counts the tokens of a piece of text; chunkers size their chunks with it.</summary>
public interface ITokenCounter
{
    /// <summary>Number of tokens in <paramref name="text"/> (no BOS/EOS).</summary>
    int Count(string text);
}

/// <summary>Token counts from a Weft <see cref="Tokenizer"/> (exact for that model).</summary>
/// <param name="Tokenizer">Tokenizer whose counts are used.</param>
public sealed record TokenizerTokenCounter(Tokenizer Tokenizer) : ITokenCounter
{
    /// <inheritdoc/>
    public int Count(string text) => text.Length == 0 ? 0 : Tokenizer.Encode(text, addSpecial: false).Length;
}

/// <summary>
/// Model-free count: words (runs of letters/digits) and individual punctuation marks each count one token. BPE
/// tokenizers give about 1.3 tokens per English word, so budgets in these units are slightly generous.
/// </summary>
public sealed partial class WordTokenCounter : ITokenCounter
{
    /// <summary>The shared instance.</summary>
    public static WordTokenCounter Instance { get; } = new();

    [GeneratedRegex(@"[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]")]
    private static partial Regex TokenRegex();

    /// <inheritdoc/>
    public int Count(string text) => TokenRegex().Count(text);
}
