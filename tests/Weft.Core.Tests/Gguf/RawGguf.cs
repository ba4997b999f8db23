using System.Text;

namespace Weft.Core.Tests.Gguf;

/// <summary>Hand-encodes GGUF bytes field by field (independently of GgufWriter) so tests can build broken files.</summary>
internal sealed class RawGguf
{
    private readonly MemoryStream _ms = new();
    private readonly BinaryWriter _w;

    public RawGguf() => _w = new BinaryWriter(_ms, Encoding.UTF8, leaveOpen: true);

    public long Position => _ms.Position;

    public RawGguf Header(uint version, ulong tensors, ulong kvs, uint magic = 0x46554747)
    {
        _w.Write(magic);
        _w.Write(version);
        _w.Write(tensors);
        _w.Write(kvs);
        return this;
    }

    public RawGguf U8(byte v) { _w.Write(v); return this; }
    public RawGguf U32(uint v) { _w.Write(v); return this; }
    public RawGguf U64(ulong v) { _w.Write(v); return this; }
    public RawGguf I32(int v) { _w.Write(v); return this; }
    public RawGguf F32(float v) { _w.Write(v); return this; }

    public RawGguf Str(string s)
    {
        byte[] b = Encoding.UTF8.GetBytes(s);
        _w.Write((ulong)b.Length);
        _w.Write(b);
        return this;
    }

    /// <summary>A key and the u32 type tag of its value (the value follows).</summary>
    public RawGguf Key(string key, uint type) => Str(key).U32(type);

    public RawGguf TensorInfo(string name, uint type, ulong offset, params ulong[] ne)
    {
        Str(name).U32((uint)ne.Length);
        foreach (ulong n in ne)
        {
            U64(n);
        }
        return U32(type).U64(offset);
    }

    public RawGguf PadTo(int alignment)
    {
        while (_ms.Position % alignment != 0)
        {
            _w.Write((byte)0);
        }
        return this;
    }

    public RawGguf Bytes(int n, byte value = 0)
    {
        for (int i = 0; i < n; i++)
        {
            _w.Write(value);
        }
        return this;
    }

    public byte[] ToArray()
    {
        _w.Flush();
        return _ms.ToArray();
    }
}
