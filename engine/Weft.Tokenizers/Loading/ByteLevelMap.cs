using System.Text;

namespace Weft.Tokenizers.Loading;

/// <summary>GPT-2's reversible byte ↔ printable character map used by byte-level BPE vocabulary files.</summary>
internal static class ByteLevelMap
{
    /// <summary>Character for each byte.</summary>
    public static readonly char[] ByteToChar = Build();

    /// <summary>The bytes in GPT-2's rank order: printable bytes ascending, then the rest ascending.</summary>
    public static readonly byte[] RankOrder = BuildOrder();

    private static readonly Dictionary<char, byte> s_charToByte = Enumerable.Range(0, 256).ToDictionary(b => ByteToChar[b], b => (byte)b);

    private static bool Printable(int b) => b is >= 0x21 and <= 0x7E or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;

    private static char[] Build()
    {
        var map = new char[256];
        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            map[b] = Printable(b) ? (char)b : (char)(256 + n++);
        }
        return map;
    }

    private static byte[] BuildOrder() =>
        Enumerable.Range(0, 256).Where(Printable).Concat(Enumerable.Range(0, 256).Where(b => !Printable(b))).Select(b => (byte)b).ToArray();

    /// <summary>Decodes a mapped token string to bytes; false when a character is outside the map.</summary>
    public static bool TryDecode(string text, out byte[] bytes)
    {
        bytes = new byte[text.Length];
        for (int i = 0; i < text.Length; i++)
        {
            if (!s_charToByte.TryGetValue(text[i], out byte b))
            {
                bytes = Encoding.UTF8.GetBytes(text);
                return false;
            }
            bytes[i] = b;
        }
        return true;
    }

    /// <summary>Encodes bytes to the mapped string form.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length);
        foreach (byte b in bytes)
        {
            sb.Append(ByteToChar[b]);
        }
        return sb.ToString();
    }
}
