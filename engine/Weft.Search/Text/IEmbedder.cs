namespace Weft.Search.Text;

/// <summary>
/// Turns text into a fixed-size vector for vector search. Implementations: <see cref="HashedEmbedder"/> (built in,
/// model-free) and <see cref="GgufEmbedder"/> (GGUF embedding models).
/// </summary>
public interface IEmbedder
{
    /// <summary>Stable identifier saved with an index (an index only accepts queries embedded by the same embedder).</summary>
    string Name { get; }

    /// <summary>Length of the vectors.</summary>
    int Dimension { get; }

    /// <summary>Writes the embedding of <paramref name="text"/> into <paramref name="output"/> (<see cref="Dimension"/> floats).</summary>
    void Embed(string text, Span<float> output);

    /// <summary>Embeddings of several texts, row by row. Override to batch on an accelerator.</summary>
    float[] EmbedBatch(IReadOnlyList<string> texts)
    {
        float[] result = new float[texts.Count * Dimension];
        for (int i = 0; i < texts.Count; i++)
        {
            Embed(texts[i], result.AsSpan(i * Dimension, Dimension));
        }
        return result;
    }
}
