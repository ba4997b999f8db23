namespace Weft.Core.IO;

/// <summary>LZ4 compression or decompression failed, or liblz4 is not installed; the message says which and why.</summary>
public sealed class Lz4Exception(string message) : IOException(message);
