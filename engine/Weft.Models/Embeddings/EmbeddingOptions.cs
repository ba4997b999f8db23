using Weft.Models.Llama;

namespace Weft.Models.Embeddings;

/// <summary>Settings of an <see cref="EmbeddingModel"/>.</summary>
public sealed class EmbeddingOptions
{
    /// <summary>Pooling; null takes the file's <c>{arch}.pooling_type</c> (mean for BERT files without one, last for decoders).</summary>
    public PoolingType? Pooling { get; init; }
    /// <summary>Scale each embedding to unit L2 length (default true).</summary>
    public bool Normalize { get; init; } = true;
    /// <summary>Cut texts longer than the model's context to its length instead of throwing.</summary>
    public bool Truncate { get; init; }
    /// <summary>Backend selection.</summary>
    public BackendChoice Backend { get; init; } = BackendChoice.Auto;
    /// <summary>CPU threads (0: all cores).</summary>
    public int Threads { get; init; }
}
