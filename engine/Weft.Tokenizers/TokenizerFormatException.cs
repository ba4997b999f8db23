namespace Weft.Tokenizers;

/// <summary>A tokenizer file (GGUF metadata, tokenizer.json, tiktoken ranks, encoder.json/vocab.bpe) is malformed or unsupported.</summary>
public sealed class TokenizerFormatException : Exception
{
    /// <summary>Creates the exception; <paramref name="source"/> names the file (and where in it) the problem is.</summary>
    public TokenizerFormatException(string source, string message, Exception? inner = null)
        : base($"{source}: {message}", inner)
    {
        Source = source;
    }

    /// <summary>The file (and position or field) the problem was found in.</summary>
    public new string Source { get; }
}
