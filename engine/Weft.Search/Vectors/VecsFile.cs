using System.Buffers.Binary;

namespace Weft.Search.Vectors;

/// <summary>
/// Reader and writer of the TEXMEX <c>.fvecs</c>/<c>.ivecs</c> formats (SIFT, GIST): each row is a little-endian
/// int32 dimension followed by that many float32 (fvecs) or int32 (ivecs) values.
/// </summary>
public static class VecsFile
{
    /// <summary>Reads an <c>.fvecs</c> file into one row-major array.</summary>
    /// <exception cref="InvalidDataException">Truncated rows, inconsistent or non-positive dimensions (file and offset named).</exception>
    public static (float[] Data, int Count, int Dimension) ReadFvecs(string path)
    {
        (int[] raw, int n, int dim) = ReadRows(path);
        float[] f = new float[raw.Length];
        Buffer.BlockCopy(raw, 0, f, 0, raw.Length * 4);
        return (f, n, dim);
    }

    /// <summary>Reads an <c>.ivecs</c> file into one row-major array.</summary>
    /// <exception cref="InvalidDataException">Truncated rows, inconsistent or non-positive dimensions.</exception>
    public static (int[] Data, int Count, int Dimension) ReadIvecs(string path) => ReadRows(path);

    private static (int[] Data, int Count, int Dimension) ReadRows(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length == 0)
        {
            return ([], 0, 0);
        }
        if (bytes.Length < 4)
        {
            throw new InvalidDataException($"{path}: {bytes.Length} bytes is too short for a vecs row header");
        }
        int dim = BinaryPrimitives.ReadInt32LittleEndian(bytes);
        if (dim <= 0 || dim > 1 << 20)
        {
            throw new InvalidDataException($"{path}: offset 0: dimension {dim} is not in 1..{1 << 20}");
        }
        long row = 4L + 4L * dim;
        if (bytes.Length % row != 0)
        {
            throw new InvalidDataException($"{path}: {bytes.Length} bytes is not a whole number of {row}-byte rows (dimension {dim}); the file is truncated");
        }
        int n = (int)(bytes.Length / row);
        int[] data = new int[(long)n * dim];
        for (int i = 0; i < n; i++)
        {
            long off = i * row;
            int d = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan((int)off));
            if (d != dim)
            {
                throw new InvalidDataException($"{path}: offset {off}: row {i} has dimension {d}, row 0 has {dim}");
            }
            Buffer.BlockCopy(bytes, (int)off + 4, data, i * dim * 4, dim * 4);
        }
        return (data, n, dim);
    }

    /// <summary>Writes row-major <paramref name="data"/> as <c>.fvecs</c>.</summary>
    public static void WriteFvecs(string path, ReadOnlySpan<float> data, int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        if (data.Length % dimension != 0)
        {
            throw new ArgumentException($"{data.Length} floats are not whole rows of {dimension}", nameof(data));
        }
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write);
        Span<byte> head = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(head, dimension);
        for (int i = 0; i < data.Length; i += dimension)
        {
            fs.Write(head);
            fs.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.Slice(i, dimension)));
        }
    }
}
