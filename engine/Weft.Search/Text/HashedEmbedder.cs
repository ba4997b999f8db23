using Weft.Search.Vectors;

namespace Weft.Search.Text;

/// <summary>
/// Model-free embedder by the hashing trick (Weinberger et al. 2009): every word (lower-cased, stop words kept out)
/// and every character trigram of a word padded with spaces is hashed (FNV-1a 64) to one of <see cref="Dimension"/>
/// buckets with a hashed sign; counts are damped to <c>1 + ln(tf)</c>, words weigh 1 and trigrams 0.5, and the vector
/// is L2-normalized. Cosine similarity then measures shared vocabulary and word fragments (so "chunk" meets
/// "chunking"). Deterministic across runs and platforms. It captures lexical overlap, not meaning: use a neural
/// embedding model for semantic search.
/// </summary>
public sealed class HashedEmbedder : IEmbedder
{
    /// <summary>Name prefix; the full name carries the dimension, e.g. <c>hashed-bow-v1-256</c>.</summary>
    public const string NamePrefix = "hashed-bow-v1-";

    /// <summary>Creates the embedder.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Dimension outside 8..65536.</exception>
    public HashedEmbedder(int dimension = 256)
    {
        if (dimension is < 8 or > 65536)
        {
            throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "dimension must be in 8..65536");
        }
        Dimension = dimension;
    }

    /// <inheritdoc/>
    public string Name => NamePrefix + Dimension;

    /// <inheritdoc/>
    public int Dimension { get; }

    /// <summary>The embedder a saved name stands for, or null when the name is not a hashed embedder.</summary>
    public static HashedEmbedder? FromName(string name) =>
        name.StartsWith(NamePrefix, StringComparison.Ordinal) && int.TryParse(name.AsSpan(NamePrefix.Length), out int d) && d is >= 8 and <= 65536
            ? new HashedEmbedder(d)
            : null;

    /// <inheritdoc/>
    public void Embed(string text, Span<float> output)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (output.Length != Dimension)
        {
            throw new ArgumentException($"output has {output.Length} floats, the embedder makes {Dimension}", nameof(output));
        }
        var counts = new Dictionary<ulong, float>();
        foreach (string w in TextAnalyzer.Terms(text))
        {
            Bump(counts, Hash("w:", w), 1f);
            string padded = " " + w + " ";
            for (int i = 0; i + 3 <= padded.Length; i++)
            {
                Bump(counts, Hash("t:", padded.Substring(i, 3)), 0.5f);
            }
        }
        output.Clear();
        foreach ((ulong h, float c) in counts)
        {
            int bucket = (int)(h % (ulong)Dimension);
            float sign = (h >> 63) != 0 ? -1f : 1f;
            output[bucket] += sign * c;
        }
        DistanceKernels.Normalize(output);
    }

    private static void Bump(Dictionary<ulong, float> counts, ulong h, float weight)
    {
        // Accumulate raw counts in units of the weight, then damp: store (count, weight) folded as weight * (1 + ln tf).
        counts.TryGetValue(h, out float prev);
        float tf = prev == 0 ? 1 : MathF.Exp(prev / weight - 1) + 1;
        counts[h] = weight * (1 + MathF.Log(tf));
    }

    private static ulong Hash(string prefix, string s)
    {
        ulong h = 14695981039346656037UL;
        foreach (char ch in prefix)
        {
            h = (h ^ ch) * 1099511628211UL;
        }
        foreach (char ch in s)
        {
            h = (h ^ (byte)ch) * 1099511628211UL;
            h = (h ^ (byte)(ch >> 8)) * 1099511628211UL;
        }
        // Final avalanche so that the low bits (bucket) and the top bit (sign) are independent.
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdUL;
        h ^= h >> 33;
        return h;
    }
}
