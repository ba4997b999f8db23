using System.Runtime.InteropServices;

namespace Weft.Tokenizers.Models;

/// <summary>Content equality for byte arrays, with span lookups so the hot path never allocates a key.</summary>
internal sealed class ByteArrayComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    public static readonly ByteArrayComparer Instance = new();

    public bool Equals(byte[]? x, byte[]? y) => ReferenceEquals(x, y) || (x is not null && y is not null && x.AsSpan().SequenceEqual(y));

    public int GetHashCode(byte[] obj) => Hash(obj);

    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

    public int GetHashCode(ReadOnlySpan<byte> alternate) => Hash(alternate);

    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();

    // FNV-style mixing over 8-byte words: tokens are short, so this beats a general-purpose hash.
    private static int Hash(ReadOnlySpan<byte> s)
    {
        ulong h = 0xcbf29ce484222325UL ^ (ulong)s.Length;
        while (s.Length >= 8)
        {
            h = (h ^ MemoryMarshal.Read<ulong>(s)) * 0x100000001b3UL;
            h ^= h >> 29;
            s = s[8..];
        }
        ulong tail = 0;
        for (int i = 0; i < s.Length; i++)
        {
            tail |= (ulong)s[i] << (8 * i);
        }
        h = (h ^ tail) * 0x9E3779B97F4A7C15UL;
        return (int)(h ^ (h >> 32));
    }
}
