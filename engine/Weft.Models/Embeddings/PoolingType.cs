namespace Weft.Models.Embeddings;

/// <summary>How token states become one vector (the values of GGUF's <c>{arch}.pooling_type</c>).</summary>
public enum PoolingType
{
    /// <summary>No pooling (per-token states); not usable for a text embedding.</summary>
    None = 0,
    /// <summary>Mean of every token's state.</summary>
    Mean = 1,
    /// <summary>The state of the first token ([CLS]).</summary>
    Cls = 2,
    /// <summary>The state of the last token (decoder embedding models).</summary>
    Last = 3,
}
