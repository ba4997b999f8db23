using System.Text.RegularExpressions;

namespace Weft.Search.Text;

/// <summary>
/// Structure-aware chunks: a document is split by heading sections, a section too large for
/// <see cref="MaxTokens"/> by paragraphs, a paragraph by sentences, and a sentence by words; then neighbouring
/// pieces of the same section are merged while they fit. Chunks never cross a heading, so each keeps one heading path.
/// </summary>
public sealed partial class RecursiveChunker : IChunker
{
    private readonly ITokenCounter _counter;

    /// <summary>Creates the chunker.</summary>
    /// <exception cref="ArgumentOutOfRangeException">maxTokens below 1.</exception>
    public RecursiveChunker(ITokenCounter counter, int maxTokens = 256)
    {
        ArgumentNullException.ThrowIfNull(counter);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 1);
        _counter = counter;
        MaxTokens = maxTokens;
    }

    /// <summary>Maximum tokens per chunk.</summary>
    public int MaxTokens { get; }

    [GeneratedRegex(@"\n[ \t]*\n")]
    private static partial Regex ParagraphBreak();

    [GeneratedRegex(@"(?<=[.!?])\s+")]
    private static partial Regex SentenceBreak();

    /// <inheritdoc/>
    public IEnumerable<TextChunk> Chunk(SourceDocument document)
    {
        foreach (DocumentSection section in document.Sections)
        {
            var pieces = new List<(int Start, int End, int Tokens)>();
            Split(document.Text, section.Start, section.End, 0, pieces);
            int i = 0;
            while (i < pieces.Count)
            {
                int j = i, tokens = 0;
                while (j < pieces.Count && (j == i || tokens + pieces[j].Tokens <= MaxTokens))
                {
                    tokens += pieces[j].Tokens;
                    j++;
                }
                int cs = pieces[i].Start, ce = pieces[j - 1].End;
                yield return new TextChunk(0, document.Source, cs, ce, section.Headings, document.Text[cs..ce], document.Metadata);
                i = j;
            }
        }
    }

    private void Split(string text, int start, int end, int depth, List<(int, int, int)> output)
    {
        // Trim whitespace so chunks start and end on text.
        while (start < end && char.IsWhiteSpace(text[start]))
        {
            start++;
        }
        while (end > start && char.IsWhiteSpace(text[end - 1]))
        {
            end--;
        }
        if (start >= end)
        {
            return;
        }
        string piece = text[start..end];
        int tokens = _counter.Count(piece);
        if (tokens <= MaxTokens)
        {
            output.Add((start, end, tokens));
            return;
        }
        if (depth >= 2)
        {
            // A sentence longer than the budget: fall back to word packing.
            var words = new TokenChunker(_counter, MaxTokens, 0);
            foreach (TextChunk c in words.ChunkRange(SourceDocument.Plain("", text), start, end))
            {
                output.Add((c.Start, c.End, _counter.Count(c.Text)));
            }
            return;
        }
        Regex splitter = depth == 0 ? ParagraphBreak() : SentenceBreak();
        int pos = start;
        bool split = false;
        foreach (Match m in splitter.Matches(piece))
        {
            split = true;
            Split(text, pos, start + m.Index, depth + 1, output);
            pos = start + m.Index + m.Length;
        }
        if (!split)
        {
            Split(text, start, end, depth + 1, output);
            return;
        }
        Split(text, pos, end, depth + 1, output);
    }
}
