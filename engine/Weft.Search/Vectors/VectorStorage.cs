namespace Weft.Search.Vectors;

/// <summary>How an index stores its vectors for graph traversal.</summary>
public enum VectorStorage
{
    /// <summary>32-bit floats, exact.</summary>
    F32 = 0,
    /// <summary>
    /// IEEE half floats (half the memory on the traversal path). A float copy is kept beside the graph and the final
    /// candidates are re-scored on it, so reported distances are exact.
    /// </summary>
    F16 = 1,
    /// <summary>
    /// Scalar-quantized int8 codes with one symmetric scale per vector (a quarter of the memory on the traversal path).
    /// A float copy is kept beside the graph and the final candidates are re-scored on it, so reported distances are exact.
    /// </summary>
    Int8 = 2,
}
