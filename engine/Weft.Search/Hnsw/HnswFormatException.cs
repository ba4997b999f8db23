namespace Weft.Search.Hnsw;

/// <summary>An index file is corrupt, truncated, of another version, or not an index file; the message names the file, field and offset.</summary>
public sealed class HnswFormatException(string message, Exception? inner = null) : IOException(message, inner);
