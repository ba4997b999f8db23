namespace Weft.Search.Vectors;

/// <summary>One search result: the caller's label and its distance to the query (see <see cref="DistanceMetric"/>).</summary>
/// <param name="Label">Label given when the vector was added.</param>
/// <param name="Distance">Distance under the index metric; smaller is closer.</param>
public readonly record struct SearchHit(long Label, float Distance);
