using System.Buffers;
using System.Diagnostics;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace Weft.Core.Gguf;

/// <summary>
/// A GGUF file (v2 or v3) opened for reading: header, metadata, tensor table, and the data section memory-mapped so
/// weights are used in place, without copies.
/// </summary>
/// <remarks>
/// The layout is: magic <c>GGUF</c>, u32 version, u64 tensor count, u64 metadata count, the metadata entries
/// (key string, u32 type, value), the tensor infos (name, u32 n_dims, u64 ne[n_dims], u32 ggml type, u64 offset),
/// padding to <c>general.alignment</c> (default 32), then the data section. Everything is little-endian.
/// Malformed content throws <see cref="GgufFormatException"/> naming the file, field and byte offset.
/// <para>The mapping is copy-on-write: writing through <see cref="Tensor.Data"/> or <see cref="IBuffer.Write"/>
/// changes this process's pages only, never the file. Tensors created by <see cref="CreateTensor"/> point into the
/// mapping and must not be used after <see cref="Dispose"/>.</para>
/// <para>After opening, the object is immutable: concurrent reads from several threads are safe (not concurrent with
/// <see cref="Dispose"/>). Every count in the file is checked against the bytes left before anything is allocated.</para>
/// <code>
/// using GgufFile f = GgufFile.Open("stories260K.gguf");
/// string arch = f.GetString("general.architecture");            // "llama"
/// long layers = f.GetInt($"{arch}.block_count");                // 5 (any integer type)
/// IReadOnlyList&lt;string&gt; tokens = f.GetStringArray("tokenizer.ggml.tokens");
/// Tensor wq = f.CreateTensor(f.GetTensorInfo("blk.0.attn_q.weight"));
/// </code>
/// </remarks>
public sealed unsafe partial class GgufFile : IDisposable
{
    /// <summary>The magic number <c>GGUF</c> read as a little-endian u32.</summary>
    public const uint Magic = 0x46554747;

    /// <summary>Data alignment when <c>general.alignment</c> is absent.</summary>
    public const int DefaultAlignment = 32;

    /// <summary>Key of the alignment value.</summary>
    public const string AlignmentKey = "general.alignment";

    /// <summary>Deepest array nesting accepted (arrays of arrays of ...); deeper files are rejected.</summary>
    public const int MaxArrayNesting = 8;

    private readonly List<string> _keys;
    private readonly Dictionary<string, GgufValue> _metadata;
    private readonly List<GgufTensorInfo> _tensors;
    private readonly Dictionary<string, GgufTensorInfo> _tensorsByName;
    private readonly GgufMappedBuffer _buffer;
    private MemoryMappedFile? _mmf;
    private MemoryMappedViewAccessor? _view;
    private MemoryHandle _pin;
    private byte* _owned;
    private byte* _base;
    private bool _disposed;

    private GgufFile(string path, byte* basePtr, long length, MemoryMappedFile? mmf, MemoryMappedViewAccessor? view, MemoryHandle pin, bool owned = false)
    {
        _owned = owned ? basePtr : null;
        FilePath = path;
        _base = basePtr;
        FileLength = length;
        _mmf = mmf;
        _view = view;
        _pin = pin;
        var p = new Parser(basePtr, length, path);
        p.Run();
        Version = p.Version;
        _keys = p.Keys;
        _metadata = p.Metadata;
        _tensors = p.Tensors;
        _tensorsByName = p.TensorsByName;
        Alignment = p.Alignment;
        DataOffset = p.DataOffset;
        long dataSize = Math.Max(0, length - DataOffset);
        _buffer = new GgufMappedBuffer(this, dataSize == 0 ? 0 : (nint)(basePtr + DataOffset), dataSize, writable: mmf is not null || owned);
    }

    /// <summary>Opens a GGUF file: memory-mapped (<see cref="GgufLoadMode.Map"/>, the default) or read into memory.</summary>
    /// <param name="path">The file.</param>
    /// <param name="mode">How the bytes are made available (see <see cref="GgufLoadMode"/>).</param>
    /// <exception cref="GgufFormatException">The content is not a valid GGUF v2/v3 file.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static GgufFile Open(string path, GgufLoadMode mode = GgufLoadMode.Map)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.None);
        long length = fs.Length;
        if (length < 24)
        {
            // Too short to map usefully (an empty file cannot be mapped at all): parse the bytes so the message is
            // the same as for any other truncated header (wrong magic first, then truncation).
            var small = new byte[length];
            fs.ReadExactly(small);
            fs.Dispose();
            Parse(small, path).Dispose();
            throw new UnreachableException($"{path}: a {length}-byte file parsed as GGUF.");
        }
        if (mode == GgufLoadMode.Read)
        {
            return ReadIntoMemory(fs, path, length);
        }
        MemoryMappedFile? mmf = null;
        MemoryMappedViewAccessor? view = null;
        byte* p = null;
        try
        {
            mmf = MemoryMappedFile.CreateFromFile(fs, null, 0, MemoryMappedFileAccess.CopyOnWrite, HandleInheritability.None, leaveOpen: false);
            view = mmf.CreateViewAccessor(0, 0, MemoryMappedFileAccess.CopyOnWrite);
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            return new GgufFile(path, p + view.PointerOffset, length, mmf, view, default);
        }
        catch
        {
            if (p != null)
            {
                view!.SafeMemoryMappedViewHandle.ReleasePointer();
            }
            view?.Dispose();
            if (mmf is not null)
            {
                mmf.Dispose();
            }
            else
            {
                fs.Dispose();
            }
            throw;
        }
    }

    /// <summary>
    /// Parses a GGUF image held in memory. The memory is pinned until <see cref="Dispose"/>; tensors point into it.
    /// The data section is read-only (<see cref="IBuffer.Write"/> throws).
    /// </summary>
    /// <param name="data">The whole file's bytes.</param>
    /// <param name="name">Name used in error messages.</param>
    /// <exception cref="GgufFormatException">The content is not a valid GGUF v2/v3 file.</exception>
    public static GgufFile Parse(ReadOnlyMemory<byte> data, string name = "<memory>")
    {
        MemoryHandle pin = data.Pin();
        try
        {
            return new GgufFile(name, (byte*)pin.Pointer, data.Length, null, null, pin);
        }
        catch
        {
            pin.Dispose();
            throw;
        }
    }

    /// <summary>The path (or the name given to <see cref="Parse"/>).</summary>
    public string FilePath { get; }

    /// <summary>GGUF version (2 or 3).</summary>
    public uint Version { get; }

    /// <summary>Size of the file in bytes.</summary>
    public long FileLength { get; }

    /// <summary>Alignment of the data section and of each tensor's offset.</summary>
    public int Alignment { get; }

    /// <summary>Absolute byte offset of the data section (may be past the end of a file without tensors).</summary>
    public long DataOffset { get; }

    /// <summary>Metadata keys in file order.</summary>
    public IReadOnlyList<string> MetadataKeys => _keys;

    /// <summary>Metadata by key.</summary>
    public IReadOnlyDictionary<string, GgufValue> Metadata => _metadata;

    /// <summary>The tensor table in file order.</summary>
    public IReadOnlyList<GgufTensorInfo> Tensors => _tensors;

    /// <summary>The data section as a host buffer (tensor offsets are relative to it).</summary>
    public IBuffer DataBuffer => _buffer;

    // ---- metadata -----------------------------------------------------------------------------------------------

    /// <summary>True when the metadata holds <paramref name="key"/>.</summary>
    public bool ContainsKey(string key) => _metadata.ContainsKey(key);

    /// <summary>The value of <paramref name="key"/>, if present.</summary>
    public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out GgufValue? value) =>
        _metadata.TryGetValue(key, out value);

    /// <summary>The value of <paramref name="key"/>.</summary>
    /// <exception cref="GgufFormatException">The key is missing.</exception>
    public GgufValue GetValue(string key) =>
        _metadata.TryGetValue(key, out GgufValue? v) ? v : throw new GgufFormatException(FilePath, $"kv '{key}'", -1, "required key is missing");

    private T Convert<T>(string key, GgufValue v, Func<GgufValue, T> f)
    {
        try
        {
            return f(v);
        }
        catch (InvalidCastException ex)
        {
            throw new GgufFormatException(FilePath, $"kv '{key}'", v.Offset, ex.Message);
        }
    }

    private bool TryGet<T>(string key, Func<GgufValue, T> f, out T value)
    {
        if (_metadata.TryGetValue(key, out GgufValue? v))
        {
            value = Convert(key, v, f);
            return true;
        }
        value = default!;
        return false;
    }

    /// <summary>A string value.</summary>
    /// <exception cref="GgufFormatException">Missing, or not a string.</exception>
    public string GetString(string key) => Convert(key, GetValue(key), v => v.AsString());

    /// <summary>A string value if present (false when missing).</summary>
    /// <exception cref="GgufFormatException">Present but not a string.</exception>
    public bool TryGetString(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value) =>
        TryGet(key, v => v.AsString(), out value);

    /// <summary>An integer value of any integer type (u8..i64).</summary>
    /// <exception cref="GgufFormatException">Missing, not an integer, or a u64 above <see cref="long.MaxValue"/>.</exception>
    public long GetInt(string key) => Convert(key, GetValue(key), v => v.AsInt64());

    /// <summary>An integer value of any integer type if present (false when missing).</summary>
    /// <exception cref="GgufFormatException">Present but not an integer.</exception>
    public bool TryGetInt(string key, out long value) => TryGet(key, v => v.AsInt64(), out value);

    /// <summary>An integer value of any integer type that must fit in an int.</summary>
    /// <exception cref="GgufFormatException">Missing, not an integer, or outside the int range.</exception>
    public int GetInt32(string key)
    {
        long v = GetInt(key);
        return v is >= int.MinValue and <= int.MaxValue
            ? (int)v
            : throw new GgufFormatException(FilePath, $"kv '{key}'", _metadata[key].Offset, $"value {v} does not fit in an i32");
    }

    /// <summary>A float value (f32 or f64).</summary>
    /// <exception cref="GgufFormatException">Missing, or not a float.</exception>
    public float GetFloat(string key) => Convert(key, GetValue(key), v => (float)v.AsDouble());

    /// <summary>A float value (f32 or f64) if present (false when missing).</summary>
    /// <exception cref="GgufFormatException">Present but not a float.</exception>
    public bool TryGetFloat(string key, out float value) => TryGet(key, v => (float)v.AsDouble(), out value);

    /// <summary>A bool value.</summary>
    /// <exception cref="GgufFormatException">Missing, or not a bool.</exception>
    public bool GetBool(string key) => Convert(key, GetValue(key), v => v.AsBool());

    /// <summary>A bool value if present (false when missing).</summary>
    /// <exception cref="GgufFormatException">Present but not a bool.</exception>
    public bool TryGetBool(string key, out bool value) => TryGet(key, v => v.AsBool(), out value);

    /// <summary>An array of strings (not copied).</summary>
    /// <exception cref="GgufFormatException">Missing, or not an array of strings.</exception>
    public IReadOnlyList<string> GetStringArray(string key) => Convert(key, GetValue(key), v => v.AsStringList());

    /// <summary>An array of strings if present (false when missing).</summary>
    /// <exception cref="GgufFormatException">Present but not an array of strings.</exception>
    public bool TryGetStringArray(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IReadOnlyList<string>? value) =>
        TryGet(key, v => v.AsStringList(), out value);

    /// <summary>An array of f32 or f64, as floats (a fresh copy).</summary>
    /// <exception cref="GgufFormatException">Missing, or not an array of floats.</exception>
    public float[] GetFloatArray(string key) => Convert(key, GetValue(key), v => v.AsFloatArray());

    /// <summary>An array of f32 or f64 if present (false when missing).</summary>
    /// <exception cref="GgufFormatException">Present but not an array of floats.</exception>
    public bool TryGetFloatArray(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out float[]? value) =>
        TryGet(key, v => v.AsFloatArray(), out value);

    /// <summary>An array of any integer type whose elements fit in an int (a fresh copy).</summary>
    /// <exception cref="GgufFormatException">Missing, not an array of integers, or an element outside the int range.</exception>
    public int[] GetIntArray(string key) => Convert(key, GetValue(key), v => v.AsInt32Array());

    /// <summary>An array of any integer type whose elements fit in an int, if present (false when missing).</summary>
    /// <exception cref="GgufFormatException">Present but not an array of i32-range integers.</exception>
    public bool TryGetIntArray(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out int[]? value) =>
        TryGet(key, v => v.AsInt32Array(), out value);

    /// <summary>An array of any integer type, as longs (a fresh copy).</summary>
    /// <exception cref="GgufFormatException">Missing, or not an array of integers.</exception>
    public long[] GetInt64Array(string key) => Convert(key, GetValue(key), v => v.AsInt64Array());

    // ---- tensors ------------------------------------------------------------------------------------------------

    /// <summary>The info of tensor <paramref name="name"/>, if present.</summary>
    public bool TryGetTensorInfo(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out GgufTensorInfo? info) =>
        _tensorsByName.TryGetValue(name, out info);

    /// <summary>The info of tensor <paramref name="name"/>.</summary>
    /// <exception cref="GgufFormatException">No tensor has that name.</exception>
    public GgufTensorInfo GetTensorInfo(string name) =>
        _tensorsByName.TryGetValue(name, out GgufTensorInfo? t) ? t : throw new GgufFormatException(FilePath, $"tensor '{name}'", -1, "required tensor is missing");

    private GgufTensorInfo Check(GgufTensorInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)info.Index >= (uint)_tensors.Count || !ReferenceEquals(_tensors[info.Index], info))
        {
            throw new ArgumentException($"Tensor info '{info.Name}' does not belong to {FilePath}.", nameof(info));
        }
        return info;
    }

    /// <summary>Host address of the first byte of a tensor's data.</summary>
    /// <exception cref="ArgumentException"><paramref name="info"/> is not from this file.</exception>
    /// <exception cref="ObjectDisposedException">The file was disposed.</exception>
    public nint DataPointer(GgufTensorInfo info) => (nint)(_base + DataOffset + Check(info).Offset);

    /// <summary>A tensor's data bytes, read in place from the mapping.</summary>
    /// <exception cref="ArgumentException"><paramref name="info"/> is not from this file.</exception>
    /// <exception cref="NotSupportedException">The tensor is larger than 2 GiB: use <see cref="DataPointer"/>.</exception>
    /// <exception cref="ObjectDisposedException">The file was disposed.</exception>
    public ReadOnlySpan<byte> TensorBytes(GgufTensorInfo info)
    {
        Check(info);
        if (info.ByteSize > int.MaxValue)
        {
            throw new NotSupportedException($"Tensor '{info.Name}' is {info.ByteSize} bytes, too large for a span; use DataPointer.");
        }
        return new ReadOnlySpan<byte>(_base + DataOffset + info.Offset, (int)info.ByteSize);
    }

    /// <summary>
    /// A weight tensor (<see cref="TensorFlags.Weight"/>) whose data lives in the mapping: <see cref="Tensor.Buffer"/>
    /// is <see cref="DataBuffer"/>, <see cref="Tensor.Offset"/> the offset in it, <see cref="Tensor.Data"/> the host address.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="info"/> is not from this file.</exception>
    /// <exception cref="ObjectDisposedException">The file was disposed.</exception>
    public Tensor CreateTensor(GgufTensorInfo info)
    {
        nint p = DataPointer(info);
        Tensor t = Tensor.NewLeaf(info.Type, info.Ne[0], info.Ne[1], info.Ne[2], info.Ne[3], info.Name);
        t.Buffer = _buffer;
        t.Offset = info.Offset;
        t.Data = p;
        t.Flags = TensorFlags.Weight;
        return t;
    }

    /// <summary>Tensors for every entry of the table, in file order (see <see cref="CreateTensor"/>).</summary>
    /// <exception cref="ObjectDisposedException">The file was disposed.</exception>
    public Tensor[] CreateTensors() => _tensors.Select(CreateTensor).ToArray();

    internal byte* BasePointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _base;
        }
    }

    internal bool IsDisposed => _disposed;

    // The whole file in one 2 MiB-aligned anonymous block (transparent huge pages asked for on Linux).
    private static GgufFile ReadIntoMemory(FileStream fs, string path, long length)
    {
        const long huge = 2L << 20;
        long size = (length + huge - 1) / huge * huge;
        byte* p = (byte*)NativeMemory.AlignedAlloc((nuint)size, (nuint)huge);
        try
        {
            if (OperatingSystem.IsLinux())
            {
                _ = Madvise((nint)p, (nuint)size, 14); // MADV_HUGEPAGE: 2 MiB pages where the kernel has them
            }
            using (fs)
            {
                long done = 0;
                while (done < length)
                {
                    int want = (int)Math.Min(1L << 30, length - done);
                    int got = RandomAccess.Read(fs.SafeFileHandle, new Span<byte>(p + done, want), done);
                    if (got <= 0)
                    {
                        throw new IOException($"{path}: the file ended at byte {done} while reading {length} bytes.");
                    }
                    done += got;
                }
            }
            return new GgufFile(path, p, length, null, null, default, owned: true);
        }
        catch
        {
            NativeMemory.AlignedFree(p);
            throw;
        }
    }

    [DllImport("libc", EntryPoint = "madvise")]
    private static extern int Madvise(nint addr, nuint length, int advice);

    /// <summary>Unmaps the file (or unpins the memory). Tensors created from it become invalid.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _base = null;
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _view = null;
        }
        _mmf?.Dispose();
        _mmf = null;
        _pin.Dispose();
        _pin = default;
        if (_owned != null)
        {
            NativeMemory.AlignedFree(_owned);
            _owned = null;
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{FilePath}: GGUF v{Version}, {_keys.Count} keys, {_tensors.Count} tensors";
}

/// <summary>How <see cref="GgufFile.Open(string, GgufLoadMode)"/> makes a file's bytes available.</summary>
public enum GgufLoadMode
{
    /// <summary>Memory-map the file (copy-on-write): opening is instant and pages load on first touch, but the
    /// kernel may drop clean pages under memory pressure and fault them in again later.</summary>
    Map,
    /// <summary>Read the whole file into anonymous memory (2 MiB aligned, transparent huge pages asked for): opening
    /// costs one read of the file, and then the bytes stay resident (llama.cpp's <c>--no-mmap</c>).</summary>
    Read,
}
