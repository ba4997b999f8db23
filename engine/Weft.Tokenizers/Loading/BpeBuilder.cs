using Weft.Tokenizers.Models;
using Weft.Tokenizers.PreTokenization;

namespace Weft.Tokenizers.Loading;

/// <summary>Builds a <see cref="BpeTokenizer"/> from token bytes plus either merge rules or tiktoken-style ranks.</summary>
internal static class BpeBuilder
{
    /// <summary>
    /// Byte-level BPE where <paramref name="mergeable"/> says which ids take part in merging, and merges are given as
    /// (left id, right id) in rank order.
    /// </summary>
    public static BpeTokenizer FromMerges(string name, string[] texts, TokenType[] types, byte[][] pieces, bool[] mergeable,
        IEnumerable<(int Left, int Right)> merges, PreTokenizer pre, bool wholeWordFirst, int bos, int eos, bool addBos, bool addEos, string source)
    {
        Dictionary<byte[], int> tokens = TokenMap(pieces, mergeable);
        var pairs = new PairTable(texts.Length);
        var lookup = tokens.GetAlternateLookup<ReadOnlySpan<byte>>();
        int rank = 0;
        byte[] buf = new byte[256];
        foreach ((int l, int r) in merges)
        {
            int len = pieces[l].Length + pieces[r].Length;
            if (buf.Length < len)
            {
                buf = new byte[len * 2];
            }
            pieces[l].CopyTo(buf, 0);
            pieces[r].CopyTo(buf, pieces[l].Length);
            if (lookup.TryGetValue(buf.AsSpan(0, len), out int merged))
            {
                pairs.TryAdd(l, r, rank, merged);
            }
            rank++;
        }
        return new BpeTokenizer(name, texts, types, pieces, new BytePairModel(tokens, ByteTable(lookup, source), pairs, wholeWordFirst), pre,
            bos, eos, addBos, addEos);
    }

    /// <summary>tiktoken: the rank of a pair is the rank (id) of the concatenated bytes, when that is a token.</summary>
    public static BpeTokenizer FromRanks(string name, string[] texts, TokenType[] types, byte[][] pieces, bool[] mergeable,
        PreTokenizer pre, int bos, int eos, string source)
    {
        Dictionary<byte[], int> tokens = TokenMap(pieces, mergeable);
        var lookup = tokens.GetAlternateLookup<ReadOnlySpan<byte>>();
        var pairs = new PairTable(texts.Length * 4);
        for (int id = 0; id < pieces.Length; id++)
        {
            byte[] t = pieces[id];
            if (!mergeable[id] || t.Length < 2)
            {
                continue;
            }
            for (int k = 1; k < t.Length; k++)
            {
                if (lookup.TryGetValue(t.AsSpan(0, k), out int l) && lookup.TryGetValue(t.AsSpan(k), out int r))
                {
                    pairs.TryAdd(l, r, id, id);
                }
            }
        }
        return new BpeTokenizer(name, texts, types, pieces, new BytePairModel(tokens, ByteTable(lookup, source), pairs, wholeWordFirst: true), pre,
            bos, eos, addBos: false, addEos: false);
    }

    private static Dictionary<byte[], int> TokenMap(byte[][] pieces, bool[] mergeable)
    {
        var tokens = new Dictionary<byte[], int>(pieces.Length, ByteArrayComparer.Instance);
        for (int i = 0; i < pieces.Length; i++)
        {
            if (mergeable[i] && pieces[i].Length > 0)
            {
                tokens.TryAdd(pieces[i], i);
            }
        }
        return tokens;
    }

    private static int[] ByteTable(Dictionary<byte[], int>.AlternateLookup<ReadOnlySpan<byte>> lookup, string source)
    {
        var table = new int[256];
        for (int b = 0; b < 256; b++)
        {
            table[b] = lookup.TryGetValue([(byte)b], out int id) ? id : -1;
        }
        return table;
    }
}
