namespace Weft.Search.Vectors;

/// <summary>How two vectors are compared. Smaller distances are closer for every metric.</summary>
public enum DistanceMetric
{
    /// <summary>Squared Euclidean distance <c>sum((a-b)^2)</c> (the square root is not taken, as in hnswlib and FAISS).</summary>
    L2 = 0,
    /// <summary>Inner product, reported as the distance <c>1 - dot(a, b)</c>.</summary>
    InnerProduct = 1,
    /// <summary>Cosine: vectors are normalized to unit length on insert and query, then compared as <c>1 - dot(a, b)</c>.</summary>
    Cosine = 2,
}
