using Weft.Search.Vectors;

namespace Weft.Search.Hnsw;

/// <summary>Parameters of a new <see cref="HnswIndex"/>.</summary>
public sealed record HnswOptions
{
    /// <summary>Vector dimension (1..65536).</summary>
    public required int Dimension { get; init; }
    /// <summary>Distance metric.</summary>
    public DistanceMetric Metric { get; init; } = DistanceMetric.L2;
    /// <summary>Storage of the vectors on the traversal path.</summary>
    public VectorStorage Storage { get; init; } = VectorStorage.F32;
    /// <summary>Links per node on the upper levels; level 0 has <c>2*M</c>. Typical 8..48.</summary>
    public int M { get; init; } = 16;
    /// <summary>Size of the dynamic candidate list while building; higher is slower and better.</summary>
    public int EfConstruction { get; init; } = 200;
    /// <summary>Default size of the dynamic candidate list at query time (persisted with the index); raised to k when smaller.</summary>
    public int Ef { get; init; } = 10;
    /// <summary>Initial capacity in vectors; the index grows by itself (see <see cref="HnswIndex.Resize"/>).</summary>
    public int Capacity { get; init; } = 1024;
    /// <summary>
    /// Seed of the level generator (hnswlib's draws, see <see cref="LevelGenerator"/>; 100 is hnswlib's default);
    /// equal seeds and single-threaded inserts give identical graphs.
    /// </summary>
    public int Seed { get; init; } = 100;
}
