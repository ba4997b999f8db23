namespace Weft.Core;

/// <summary>
/// The distance a <see cref="OpKind.PairwiseDistance"/> node computes (its param 0). Smaller is closer for both, as in
/// Weft.Search's <c>DistanceMetric</c>: cosine search normalizes the vectors first and then uses
/// <see cref="InnerProduct"/>.
/// </summary>
public enum PairwiseMetric
{
    /// <summary>Squared Euclidean distance, effectively <c>Σ_k (a[k] − b[k])²</c>, summed directly (not as <c>|a|² + |b|² − 2a·b</c>, which cancels).</summary>
    L2Squared = 0,
    /// <summary>Inner-product distance, effectively <c>1 − Σ_k a[k] · b[k]</c>.</summary>
    InnerProduct = 1,
}
