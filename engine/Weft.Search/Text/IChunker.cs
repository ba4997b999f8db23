namespace Weft.Search.Text;

/// <summary>Splits documents into chunks. Ids in the returned chunks are 0; the collection numbers them.</summary>
public interface IChunker
{
    /// <summary>Chunks of <paramref name="document"/>, in document order.</summary>
    IEnumerable<TextChunk> Chunk(SourceDocument document);
}
