namespace Weft.Tokenizers;

/// <summary>Kind of a vocabulary entry, with GGUF's <c>tokenizer.ggml.token_type</c> numbering.</summary>
public enum TokenType
{
    /// <summary>Not set (treated as normal).</summary>
    Undefined = 0,
    /// <summary>An ordinary piece produced by the model's algorithm.</summary>
    Normal = 1,
    /// <summary>The unknown token.</summary>
    Unknown = 2,
    /// <summary>A control token (BOS, EOS, chat markers): matched in text only when special parsing is on.</summary>
    Control = 3,
    /// <summary>An added token that is always matched in text before the algorithm runs.</summary>
    UserDefined = 4,
    /// <summary>Unused slot.</summary>
    Unused = 5,
    /// <summary>A byte-fallback token such as <c>&lt;0x0A&gt;</c>.</summary>
    Byte = 6,
}
