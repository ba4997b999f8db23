namespace Weft.Search.Text;

/// <summary>A heading section of a document: <c>[Start, End)</c> in <see cref="SourceDocument.Text"/> and its heading path.</summary>
/// <param name="Start">First character of the section (its heading line included).</param>
/// <param name="End">One past the last character.</param>
/// <param name="Headings">Heading path, outermost first (empty before the first heading).</param>
public sealed record DocumentSection(int Start, int End, IReadOnlyList<string> Headings);

/// <summary>One document to index: its text, where it came from, its heading sections and metadata.</summary>
/// <param name="Source">File path (plus <c>#line</c> for JSONL records) or caller-chosen id.</param>
/// <param name="Text">Full text; chunk offsets refer to it.</param>
/// <param name="Sections">Heading sections covering the text in order (one section for plain text).</param>
/// <param name="Metadata">Extra string fields (JSONL fields other than the text).</param>
public sealed record SourceDocument(string Source, string Text, IReadOnlyList<DocumentSection> Sections, IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>A plain-text document with one section and no metadata.</summary>
    public static SourceDocument Plain(string source, string text) =>
        new(source, text, [new DocumentSection(0, text.Length, [])], new Dictionary<string, string>());

    /// <summary>Heading path of the section holding character <paramref name="offset"/>.</summary>
    public IReadOnlyList<string> HeadingsAt(int offset)
    {
        foreach (DocumentSection s in Sections)
        {
            if (offset >= s.Start && offset < s.End)
            {
                return s.Headings;
            }
        }
        return Sections.Count > 0 ? Sections[^1].Headings : [];
    }
}
