namespace Weft.Search.Collections;

/// <summary>Which indexes answer a collection query.</summary>
public enum SearchMode
{
    /// <summary>BM25 only.</summary>
    Lexical,
    /// <summary>Vector (embedding) search only.</summary>
    Vector,
    /// <summary>BM25 and vector results fused by reciprocal rank fusion.</summary>
    Hybrid,
}
