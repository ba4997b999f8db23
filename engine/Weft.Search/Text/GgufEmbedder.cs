using Weft.Models.Embeddings;

namespace Weft.Search.Text;

/// <summary>
/// An <see cref="IEmbedder"/> over a GGUF embedding model (<see cref="EmbeddingModel"/>: BERT-family encoders).
/// Its <see cref="Name"/> is the model's (architecture, file name, pooling, normalisation), so an index built with one
/// model refuses queries embedded by another.
/// </summary>
public sealed class GgufEmbedder : IEmbedder, IDisposable
{
    private readonly bool _owns;

    /// <summary>Wraps a loaded model; <paramref name="ownsModel"/> disposes it with this embedder.</summary>
    public GgufEmbedder(EmbeddingModel model, bool ownsModel = false)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        _owns = ownsModel;
    }

    /// <summary>Loads the GGUF model at <paramref name="path"/> and owns it.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="Weft.Models.Llama.ModelFormatException">The file is not a supported embedding model.</exception>
    public static GgufEmbedder Load(string path, EmbeddingOptions? options = null) => new(EmbeddingModel.Load(path, options), ownsModel: true);

    /// <summary>The model.</summary>
    public EmbeddingModel Model { get; }

    /// <inheritdoc/>
    public string Name => Model.Name;

    /// <inheritdoc/>
    public int Dimension => Model.Dimension;

    /// <inheritdoc/>
    public void Embed(string text, Span<float> output)
    {
        if (output.Length != Dimension)
        {
            throw new ArgumentException($"The output holds {output.Length} floats; {Name} writes {Dimension}.", nameof(output));
        }
        Model.Embed(text).CopyTo(output);
    }

    /// <inheritdoc/>
    public float[] EmbedBatch(IReadOnlyList<string> texts)
    {
        float[][] rows = Model.EmbedBatch(texts);
        var result = new float[rows.Length * Dimension];
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i].CopyTo(result, i * Dimension);
        }
        return result;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_owns)
        {
            Model.Dispose();
        }
    }
}
