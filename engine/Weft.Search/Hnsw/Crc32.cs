namespace Weft.Search.Hnsw;

/// <summary>CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum of zlib and PNG.</summary>
internal static unsafe class Crc32
{
    private static readonly uint[] s_table = BuildTable();

    private static uint[] BuildTable()
    {
        var t = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            uint c = i;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }
            t[i] = c;
        }
        return t;
    }

    public static uint Compute(ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            return Compute(p, data.Length);
        }
    }

    public static uint Compute(byte* p, long length)
    {
        uint c = 0xFFFFFFFFu;
        uint[] t = s_table;
        for (long i = 0; i < length; i++)
        {
            c = t[(c ^ p[i]) & 0xFF] ^ (c >> 8);
        }
        return ~c;
    }
}
