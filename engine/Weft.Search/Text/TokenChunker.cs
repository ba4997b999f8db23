using System.Text.RegularExpressions;

namespace Weft.Search.Text;

/// <summary>
/// Fixed-size chunks measured in tokens, with overlap: the text is cut at whitespace into words, each word is
/// measured with the token counter (with its leading space, as BPE tokenizers see it), and words are packed until
/// the next would exceed <see cref="ChunkTokens"/>; the next chunk starts <see cref="Overlap"/> tokens back.
/// </summary>
public sealed partial class TokenChunker : IChunker
{
    private readonly ITokenCounter _counter;

    /// <summary>Creates the chunker.</summary>
    /// <exception cref="ArgumentOutOfRangeException">chunkTokens below 1, or overlap not in 0..chunkTokens-1.</exception>
    public TokenChunker(ITokenCounter counter, int chunkTokens = 256, int overlap = 32)
    {
        ArgumentNullException.ThrowIfNull(counter);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkTokens, 1);
        if (overlap < 0 || overlap >= chunkTokens)
        {
            throw new ArgumentOutOfRangeException(nameof(overlap), overlap, $"overlap must be in 0..{chunkTokens - 1} (less than the chunk size)");
        }
        _counter = counter;
        ChunkTokens = chunkTokens;
        Overlap = overlap;
    }

    /// <summary>Maximum tokens per chunk (a single longer word becomes a chunk of its own).</summary>
    public int ChunkTokens { get; }
    /// <summary>Tokens shared by consecutive chunks.</summary>
    public int Overlap { get; }

    [GeneratedRegex(@"\S+")]
    private static partial Regex WordRegex();

    /// <inheritdoc/>
    public IEnumerable<TextChunk> Chunk(SourceDocument document) => ChunkRange(document, 0, document.Text.Length);

    internal IEnumerable<TextChunk> ChunkRange(SourceDocument document, int start, int end)
    {
        string text = document.Text;
        var words = new List<(int Start, int End, int Tokens)>();
        foreach (Match m in WordRegex().Matches(text[start..end]))
        {
            words.Add((start + m.Index, start + m.Index + m.Length, Math.Max(1, _counter.Count(" " + m.Value))));
        }
        int i = 0;
        while (i < words.Count)
        {
            int j = i, tokens = 0;
            while (j < words.Count && (j == i || tokens + words[j].Tokens <= ChunkTokens))
            {
                tokens += words[j].Tokens;
                j++;
            }
            int cs = words[i].Start, ce = words[j - 1].End;
            yield return new TextChunk(0, document.Source, cs, ce, document.HeadingsAt(cs), text[cs..ce], document.Metadata);
            if (j >= words.Count)
            {
                break;
            }
            // Step back over up to Overlap tokens, but always advance by at least one word.
            int back = j, ov = 0;
            while (back - 1 > i && ov + words[back - 1].Tokens <= Overlap)
            {
                back--;
                ov += words[back].Tokens;
            }
            i = back;
        }
    }
}
