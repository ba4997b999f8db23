namespace Weft.Core.Gguf;

/// <summary>
/// A GGUF file is malformed, truncated or inconsistent, or lacks a value a reader asked for. The message names the
/// file, the field and the byte offset where the problem was found, so the file can be inspected with a hex dump.
/// </summary>
/// <remarks>This is the only exception type the GGUF reader throws for bad content (I/O errors stay <see cref="IOException"/>).</remarks>
public sealed class GgufFormatException : Exception
{
    /// <summary>Creates the exception for <paramref name="problem"/> found in <paramref name="field"/> at <paramref name="offset"/>.</summary>
    /// <param name="filePath">The file (or a description such as <c>&lt;memory&gt;</c>).</param>
    /// <param name="field">The field being read, e.g. <c>header.version</c> or <c>kv 'llama.block_count'</c>.</param>
    /// <param name="offset">Byte offset of the field in the file, or -1 when the field has no position (a missing key).</param>
    /// <param name="problem">What is wrong, and where helpful how to fix it.</param>
    public GgufFormatException(string filePath, string field, long offset, string problem)
        : base(offset >= 0
            ? $"{filePath}: invalid GGUF: {field} at byte {offset}: {problem}"
            : $"{filePath}: invalid GGUF: {field}: {problem}")
    {
        FilePath = filePath;
        Field = field;
        Offset = offset;
    }

    /// <summary>The file the problem was found in.</summary>
    public string FilePath { get; }

    /// <summary>The field being read when the problem was found.</summary>
    public string Field { get; }

    /// <summary>Byte offset of the field, or -1 when it has none.</summary>
    public long Offset { get; }
}
