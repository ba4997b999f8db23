namespace Weft.Tokenizers;

/// <summary>Overrides for loading formats that do not say everything themselves (encoder.json/vocab.bpe, tiktoken).</summary>
public sealed record TokenizerLoadOptions
{
    /// <summary>Pre-tokenizer name (see <see cref="PreTokenization.PreTokenizer.KnownNames"/>); null means what the file says or implies.</summary>
    public string? PreTokenizer { get; init; }

    /// <summary>Look whole words up before merging (llama3's <c>ignore_merges</c>); null means what the format implies.</summary>
    public bool? IgnoreMerges { get; init; }

    /// <summary>Extra control tokens (text → id), e.g. Llama 3's <c>&lt;|begin_of_text|&gt;</c> = 128000 for its encoder.json.</summary>
    public IReadOnlyDictionary<string, int>? SpecialTokens { get; init; }

    /// <summary>BOS token text (one of the special tokens) to prepend when encoding with <c>addSpecial</c>.</summary>
    public string? BosToken { get; init; }
}
