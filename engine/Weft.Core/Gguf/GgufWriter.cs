using System.Buffers.Binary;
using System.Text;

namespace Weft.Core.Gguf;

/// <summary>
/// Builds a GGUF v3 file: metadata of every type, then tensors laid out with alignment padding. <see cref="Write"/>
/// is atomic: the file is written beside the target under a temporary name, flushed to disk, then renamed over it.
/// </summary>
/// <remarks>
/// Tensor data can be given as bytes or produced by a callback that streams it when the file is written, so a
/// multi-gigabyte model is never held in memory whole.
/// <code>
/// var w = new GgufWriter();
/// w.Set("general.architecture", GgufValue.Of("llama"));
/// w.AddTensor("output_norm.weight", DType.F32, [64], bytes);
/// w.AddTensor("token_embd.weight", DType.F32, [64, 512], s => WriteRows(s));   // streamed at Write time
/// w.Write("model.gguf");
/// </code>
/// </remarks>
public sealed class GgufWriter
{
    private readonly List<string> _keys = new();
    private readonly Dictionary<string, GgufValue> _metadata = new(StringComparer.Ordinal);
    private readonly List<Entry> _tensors = new();
    private readonly HashSet<string> _tensorNames = new(StringComparer.Ordinal);

    private sealed record Entry(string Name, DType Type, Long4 Ne, int NDims, long ByteSize, Action<Stream> WriteData);

    /// <summary>Called after each tensor's data is written: (tensor name, bytes written so far, total tensor bytes).</summary>
    public Action<string, long, long>? Progress { get; set; }

    /// <summary>Metadata keys in the order they will be written.</summary>
    public IReadOnlyList<string> Keys => _keys;

    /// <summary>Number of tensors added.</summary>
    public int TensorCount => _tensors.Count;

    /// <summary>Total bytes of tensor data (without padding).</summary>
    public long TensorBytes => _tensors.Sum(t => t.ByteSize);

    /// <summary>The data alignment: <c>general.alignment</c> when set, else 32.</summary>
    public int Alignment =>
        _metadata.TryGetValue(GgufFile.AlignmentKey, out GgufValue? v) && v.TryAsInt64(out long a) ? (int)a : GgufFile.DefaultAlignment;

    /// <summary>Sets (or replaces, keeping its position) a metadata value.</summary>
    /// <exception cref="ArgumentException">The key is empty, or an invalid <c>general.alignment</c>.</exception>
    public GgufWriter Set(string key, GgufValue value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        if (key == GgufFile.AlignmentKey)
        {
            if (value.Type != GgufValueType.UInt32 || !value.TryAsInt64(out long a) || a <= 0 || a > 1 << 30 || (a & (a - 1)) != 0)
            {
                throw new ArgumentException($"{GgufFile.AlignmentKey} must be a u32 power of two, not {value}.", nameof(value));
            }
            if (_tensors.Count > 0)
            {
                throw new InvalidOperationException($"Set {GgufFile.AlignmentKey} before adding tensors.");
            }
        }
        if (_metadata.TryAdd(key, value))
        {
            _keys.Add(key);
        }
        else
        {
            _metadata[key] = value;
        }
        return this;
    }

    /// <summary>Removes a metadata key; false when absent.</summary>
    public bool Remove(string key)
    {
        if (_metadata.Remove(key))
        {
            _keys.Remove(key);
            return true;
        }
        return false;
    }

    /// <summary>The value set for <paramref name="key"/>, if any.</summary>
    public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out GgufValue? value) =>
        _metadata.TryGetValue(key, out value);

    /// <summary>Adds a tensor whose bytes are given now (copied).</summary>
    /// <exception cref="ArgumentException">Bad name or shape, or <paramref name="data"/> has the wrong length.</exception>
    public GgufWriter AddTensor(string name, DType type, ReadOnlySpan<long> shape, ReadOnlySpan<byte> data)
    {
        byte[] copy = data.ToArray();
        long expected = Validate(name, type, shape, out _);
        if (copy.LongLength != expected)
        {
            throw new ArgumentException($"Tensor '{name}': {copy.Length} bytes given, {expected} expected for {TypeTraits.Of(type).Name} {ShapeText(shape)}.", nameof(data));
        }
        return AddTensor(name, type, shape, s => s.Write(copy));
    }

    /// <summary>
    /// Adds a tensor whose data <paramref name="writeData"/> streams when the file is written; it must write exactly
    /// the tensor's byte size (checked).
    /// </summary>
    /// <exception cref="ArgumentException">Bad name or shape (1..4 dims, sizes ≥ 0, ne0 a multiple of the block size), or a duplicate name.</exception>
    public GgufWriter AddTensor(string name, DType type, ReadOnlySpan<long> shape, Action<Stream> writeData)
    {
        ArgumentNullException.ThrowIfNull(writeData);
        long bytes = Validate(name, type, shape, out Long4 ne);
        _tensors.Add(new Entry(name, type, ne, shape.Length, bytes, writeData));
        _tensorNames.Add(name);
        return this;
    }

    private long Validate(string name, DType type, ReadOnlySpan<long> shape, out Long4 ne)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (_tensorNames.Contains(name))
        {
            throw new ArgumentException($"Duplicate tensor name '{name}'.", nameof(name));
        }
        if (!TypeTraits.IsKnown((int)type))
        {
            throw new ArgumentException($"Tensor '{name}': unknown type id {(int)type}.", nameof(type));
        }
        if (shape.Length is < 1 or > Tensor.MaxDims)
        {
            throw new ArgumentException($"Tensor '{name}': {shape.Length} dimensions (1..{Tensor.MaxDims} allowed).", nameof(shape));
        }
        ne = Long4.Of(1);
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] < 0)
            {
                throw new ArgumentException($"Tensor '{name}': dimension {i} is negative ({shape[i]}).", nameof(shape));
            }
            ne[i] = shape[i];
        }
        TypeTraits tt = TypeTraits.Of(type);
        if (ne[0] % tt.BlockSize != 0)
        {
            throw new ArgumentException($"Tensor '{name}': ne0 = {ne[0]} is not a multiple of the {tt.Name} block size {tt.BlockSize}.", nameof(shape));
        }
        return GgufTensorInfo.ComputeByteSize(type, ne);
    }

    private static string ShapeText(ReadOnlySpan<long> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    /// <summary>
    /// A writer holding every metadata value and tensor of <paramref name="file"/> (tensor data is read from its
    /// mapping when written, so keep the file open until <see cref="Write"/> returns).
    /// </summary>
    public static GgufWriter From(GgufFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var w = new GgufWriter();
        foreach (string k in file.MetadataKeys)
        {
            w.Set(k, file.Metadata[k]);
        }
        foreach (GgufTensorInfo t in file.Tensors)
        {
            w.AddTensor(t.Name, t.Type, t.Shape, s => CopyTensor(file, t, s));
        }
        return w;
    }

    /// <summary>Writes the bytes of tensor <paramref name="info"/> of <paramref name="file"/> to <paramref name="destination"/> (any size).</summary>
    public static unsafe void CopyTensor(GgufFile file, GgufTensorInfo info, Stream destination)
    {
        byte* p = (byte*)file.DataPointer(info);
        const int chunk = 1 << 24;
        for (long done = 0; done < info.ByteSize; done += chunk)
        {
            int n = (int)Math.Min(chunk, info.ByteSize - done);
            destination.Write(new ReadOnlySpan<byte>(p + done, n));
        }
    }

    /// <summary>Writes the file atomically: temp file beside <paramref name="path"/>, flush to disk, rename over it.</summary>
    /// <exception cref="InvalidOperationException">A tensor callback wrote the wrong number of bytes.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void Write(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        string tmp = $"{full}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                WriteTo(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try
            {
                File.Delete(tmp);
            }
            catch (IOException)
            {
                // Best effort: the original error matters more than a leftover temp file.
            }
            throw;
        }
    }

    /// <summary>Writes the file to <paramref name="stream"/> (not atomic; see <see cref="Write"/>).</summary>
    /// <exception cref="InvalidOperationException">A tensor callback wrote the wrong number of bytes.</exception>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        int alignment = Alignment;
        var header = new MemoryStream();
        var b8 = new byte[8];
        void U32(uint v) { BinaryPrimitives.WriteUInt32LittleEndian(b8, v); header.Write(b8, 0, 4); }
        void U64(ulong v) { BinaryPrimitives.WriteUInt64LittleEndian(b8, v); header.Write(b8); }

        U32(GgufFile.Magic);
        U32(3);
        U64((ulong)_tensors.Count);
        U64((ulong)_keys.Count);
        foreach (string k in _keys)
        {
            WriteString(header, k);
            GgufValue v = _metadata[k];
            U32((uint)v.Type);
            WriteValue(header, v);
        }
        long offset = 0;
        foreach (Entry t in _tensors)
        {
            WriteString(header, t.Name);
            U32((uint)t.NDims);
            for (int d = 0; d < t.NDims; d++)
            {
                U64((ulong)t.Ne[d]);
            }
            U32((uint)t.Type);
            U64((ulong)offset);
            offset = GgufFile.AlignUp(offset + t.ByteSize, alignment);
        }
        long headerLength = header.Length;
        header.Write(new byte[GgufFile.AlignUp(headerLength, alignment) - headerLength]);
        header.Position = 0;
        header.CopyTo(stream);

        long total = TensorBytes, done = 0;
        var padding = new byte[alignment];
        for (int i = 0; i < _tensors.Count; i++)
        {
            Entry t = _tensors[i];
            var counter = new CountingStream(stream, t.Name, t.ByteSize);
            t.WriteData(counter);
            if (counter.Written != t.ByteSize)
            {
                throw new InvalidOperationException($"Tensor '{t.Name}': the data callback wrote {counter.Written} bytes, {t.ByteSize} expected.");
            }
            done += t.ByteSize;
            if (i + 1 < _tensors.Count)
            {
                stream.Write(padding, 0, (int)(GgufFile.AlignUp(t.ByteSize, alignment) - t.ByteSize));
            }
            Progress?.Invoke(t.Name, done, total);
        }
        stream.Flush();
    }

    private static void WriteString(Stream s, string v)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(v);
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)bytes.Length);
        s.Write(len);
        s.Write(bytes);
    }

    private static void WriteValue(Stream s, GgufValue v)
    {
        Span<byte> b = stackalloc byte[8];
        switch (v.RawValue)
        {
            case byte x: s.WriteByte(x); break;
            case sbyte x: s.WriteByte((byte)x); break;
            case ushort x: BinaryPrimitives.WriteUInt16LittleEndian(b, x); s.Write(b[..2]); break;
            case short x: BinaryPrimitives.WriteInt16LittleEndian(b, x); s.Write(b[..2]); break;
            case uint x: BinaryPrimitives.WriteUInt32LittleEndian(b, x); s.Write(b[..4]); break;
            case int x: BinaryPrimitives.WriteInt32LittleEndian(b, x); s.Write(b[..4]); break;
            case float x: BinaryPrimitives.WriteSingleLittleEndian(b, x); s.Write(b[..4]); break;
            case ulong x: BinaryPrimitives.WriteUInt64LittleEndian(b, x); s.Write(b); break;
            case long x: BinaryPrimitives.WriteInt64LittleEndian(b, x); s.Write(b); break;
            case double x: BinaryPrimitives.WriteDoubleLittleEndian(b, x); s.Write(b); break;
            case bool x: s.WriteByte(x ? (byte)1 : (byte)0); break;
            case string x: WriteString(s, x); break;
            case Array a:
                BinaryPrimitives.WriteUInt32LittleEndian(b, (uint)v.ElementType);
                s.Write(b[..4]);
                BinaryPrimitives.WriteUInt64LittleEndian(b, (ulong)a.Length);
                s.Write(b);
                WriteArrayItems(s, v.ElementType, a);
                break;
            default:
                throw new System.Diagnostics.UnreachableException($"GGUF value of CLR type {v.RawValue.GetType()}.");
        }
    }

    private static void WriteArrayItems(Stream s, GgufValueType elem, Array a)
    {
        switch (a)
        {
            case string[] strings:
                foreach (string x in strings)
                {
                    WriteString(s, x);
                }
                break;
            case GgufValue[] nested:
                foreach (GgufValue x in nested)
                {
                    WriteValue(s, x);
                }
                break;
            case bool[] bools:
                foreach (bool x in bools)
                {
                    s.WriteByte(x ? (byte)1 : (byte)0);
                }
                break;
            default:
                // Plain scalars: the CLR array's bytes are the little-endian on-disk bytes (x86/ARM hosts).
                if (!BitConverter.IsLittleEndian)
                {
                    throw new PlatformNotSupportedException("Writing GGUF arrays needs a little-endian host.");
                }
                int size = GgufValue.ScalarSize(elem);
                var handle = System.Runtime.InteropServices.GCHandle.Alloc(a, System.Runtime.InteropServices.GCHandleType.Pinned);
                try
                {
                    unsafe
                    {
                        byte* p = (byte*)handle.AddrOfPinnedObject();
                        long total = (long)a.Length * size;
                        for (long done = 0; done < total; done += 1 << 24)
                        {
                            s.Write(new ReadOnlySpan<byte>(p + done, (int)Math.Min(1 << 24, total - done)));
                        }
                    }
                }
                finally
                {
                    handle.Free();
                }
                break;
        }
    }

    /// <summary>Forwards writes, counting them, and refuses to write past the tensor's size.</summary>
    private sealed class CountingStream(Stream inner, string name, long limit) : Stream
    {
        public long Written { get; private set; }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Written;
        public override long Position { get => Written; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (buffer.Length > limit - Written)
            {
                throw new InvalidOperationException($"Tensor '{name}': the data callback wrote more than the tensor's {limit} bytes.");
            }
            inner.Write(buffer);
            Written += buffer.Length;
        }
    }
}
