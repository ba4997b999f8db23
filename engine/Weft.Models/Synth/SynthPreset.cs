namespace Weft.Models.Synth;

/// <summary>Shape of a synthetic Llama model: the hyper-parameters written to <c>llama.*</c> keys.</summary>
/// <param name="Name">Preset name (<c>tiny</c>, <c>135m</c>, <c>1b</c>).</param>
/// <param name="EmbeddingLength">n_embd.</param>
/// <param name="BlockCount">n_layer.</param>
/// <param name="HeadCount">n_head.</param>
/// <param name="HeadCountKv">n_head_kv (grouped-query attention when below n_head).</param>
/// <param name="FeedForwardLength">n_ff.</param>
/// <param name="ContextLength">Training context length.</param>
/// <param name="RopeFreqBase">RoPE base frequency.</param>
/// <param name="RmsNormEpsilon">RMS norm epsilon.</param>
public sealed record SynthPreset(string Name, int EmbeddingLength, int BlockCount, int HeadCount, int HeadCountKv,
    int FeedForwardLength, int ContextLength = 2048, float RopeFreqBase = 10000f, float RmsNormEpsilon = 1e-5f)
{
    /// <summary>A very small model for tests: n_embd 64, 2 layers, 4 heads, 2 KV heads, n_ff 128.</summary>
    public static SynthPreset Tiny { get; } = new("tiny", 64, 2, 4, 2, 128);

    /// <summary>SmolLM-135M shape: n_embd 576, 30 layers, 9 heads, 3 KV heads, n_ff 1536.</summary>
    public static SynthPreset Llama135M { get; } = new("135m", 576, 30, 9, 3, 1536);

    /// <summary>Llama-3.2-1B shape: n_embd 2048, 16 layers, 32 heads, 8 KV heads, n_ff 8192.</summary>
    public static SynthPreset Llama1B { get; } = new("1b", 2048, 16, 32, 8, 8192);

    /// <summary>Every preset.</summary>
    public static IReadOnlyList<SynthPreset> All { get; } = [Tiny, Llama135M, Llama1B];

    /// <summary>The preset called <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">No such preset.</exception>
    public static SynthPreset Get(string name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown preset '{name}'; known: {string.Join(", ", All.Select(p => p.Name))}.", nameof(name));

    /// <summary>Width of one head.</summary>
    public int HeadDim => EmbeddingLength / HeadCount;

    /// <summary>Checks that the shape is consistent.</summary>
    /// <exception cref="ArgumentException">A size is not positive, heads do not divide n_embd, or KV heads do not divide heads.</exception>
    public void Validate()
    {
        if (EmbeddingLength <= 0 || BlockCount <= 0 || HeadCount <= 0 || HeadCountKv <= 0 || FeedForwardLength <= 0 || ContextLength <= 0)
        {
            throw new ArgumentException($"Preset '{Name}': every size must be positive.");
        }
        if (EmbeddingLength % HeadCount != 0 || HeadCount % HeadCountKv != 0)
        {
            throw new ArgumentException($"Preset '{Name}': n_head {HeadCount} must divide n_embd {EmbeddingLength} and n_head_kv {HeadCountKv} must divide n_head.");
        }
    }
}
