namespace Weft.Search.Text;

/// <summary>A piece of a document that is indexed and returned by searches.</summary>
/// <param name="Id">Position of the chunk in its collection (also its vector label).</param>
/// <param name="Source">Document source (see <see cref="SourceDocument.Source"/>).</param>
/// <param name="Start">First character in the document text.</param>
/// <param name="End">One past the last character.</param>
/// <param name="Headings">Heading path of the section the chunk starts in.</param>
/// <param name="Text">The chunk text (the document text in <c>[Start, End)</c>).</param>
/// <param name="Metadata">Metadata copied from the document.</param>
public sealed record TextChunk(int Id, string Source, int Start, int End, IReadOnlyList<string> Headings, string Text, IReadOnlyDictionary<string, string> Metadata);
