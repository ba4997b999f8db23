using System.Text;
using Weft.Tokenizers.Models;

namespace Weft.Tokenizers;

/// <summary>
/// SentencePiece BPE as llama.cpp runs it (Llama 1/2, Phi-3, Baichuan, Mistral v1...): spaces become U+2581, a space is
/// prefixed to the first fragment and to fragments after added tokens, adjacent pieces merge by highest score
/// (leftmost on ties), and characters with no piece fall back to <c>&lt;0xXX&gt;</c> byte tokens.
/// </summary>
public sealed class SentencePieceTokenizer : Tokenizer
{
    private readonly Dictionary<byte[], int> _tokens;
    private readonly Dictionary<byte[], int>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    private readonly float[] _scores;
    private readonly int[] _byteToId;

    internal SentencePieceTokenizer(string name, string[] texts, TokenType[] types, float[] scores, int bosId, int eosId,
        bool addBos, bool addEos, bool addSpacePrefix)
        : base(name, texts, types, BuildPieces(texts, types), bosId, eosId, addBos, addEos)
    {
        _scores = scores;
        AddSpacePrefix = addSpacePrefix;
        _tokens = new Dictionary<byte[], int>(texts.Length, ByteArrayComparer.Instance);
        for (int i = 0; i < texts.Length; i++)
        {
            _tokens[Encoding.UTF8.GetBytes(texts[i])] = i; // later ids win, as in llama.cpp's token_to_id
        }
        _lookup = _tokens.GetAlternateLookup<ReadOnlySpan<byte>>();
        _cacheLookup = _cache.GetAlternateLookup<ReadOnlySpan<byte>>();
        // When no piece has U+2581 after another character, no merge can cross the start of a "▁word", so each word
        // can be merged (and cached) on its own with exactly the same result as merging the whole text.
        _splitWords = texts.All(t => t.TrimStart('\u2581').IndexOf('\u2581') < 0);
        _byteToId = new int[256];
        for (int b = 0; b < 256; b++)
        {
            if (_lookup.TryGetValue(Encoding.ASCII.GetBytes($"<0x{b:X2}>"), out int id))
            {
                _byteToId[b] = id;
            }
            else if (_lookup.TryGetValue([(byte)b], out int single))
            {
                _byteToId[b] = single;
            }
            else
            {
                _byteToId[b] = -1;
            }
        }
    }

    private readonly bool _splitWords;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<byte[], int[]> _cache = new(ByteArrayComparer.Instance);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<byte[], int[]>.AlternateLookup<ReadOnlySpan<byte>> _cacheLookup;

    /// <summary>Whether a space is prefixed to the first fragment (<c>tokenizer.ggml.add_space_prefix</c>).</summary>
    public bool AddSpacePrefix { get; }

    private static byte[][] BuildPieces(string[] texts, TokenType[] types)
    {
        var pieces = new byte[texts.Length][];
        for (int i = 0; i < texts.Length; i++)
        {
            string t = texts[i];
            if (types[i] == TokenType.Byte && t.Length == 6 && t.StartsWith("<0x", StringComparison.Ordinal)
                && byte.TryParse(t.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out byte b))
            {
                pieces[i] = [b];
            }
            else if (types[i] is TokenType.Normal or TokenType.Undefined or TokenType.Unused)
            {
                pieces[i] = Encoding.UTF8.GetBytes(t.Replace('\u2581', ' '));
            }
            else
            {
                pieces[i] = Encoding.UTF8.GetBytes(t);
            }
        }
        return pieces;
    }

    /// <inheritdoc />
    protected override ReadOnlySpan<byte> TrimFirstPiece(int id, ReadOnlySpan<byte> piece) =>
        AddSpacePrefix && piece.Length > 0 && piece[0] == (byte)' ' ? piece[1..] : piece;

    [ThreadStatic] private static byte[]? t_bytes;
    [ThreadStatic] private static Scratch? t_scratch;

    private sealed class Scratch
    {
        public int[] Start = new int[64], Len = new int[64], Prev = new int[64], Next = new int[64];
        public Bigram[] Heap = new Bigram[64];

        public void Ensure(int n)
        {
            if (Start.Length < n)
            {
                int s = Math.Max(n, Start.Length * 2);
                Start = new int[s];
                Len = new int[s];
                Prev = new int[s];
                Next = new int[s];
            }
        }
    }

    private struct Bigram
    {
        public float Score;
        public int Left, Right, Size;

        public readonly bool Before(in Bigram o) => Score > o.Score || (Score == o.Score && Left < o.Left);
    }

    /// <inheritdoc />
    protected override void EncodeText(ReadOnlySpan<char> text, bool afterSpecial, List<int> output)
    {
        byte[] buf = t_bytes ?? new byte[256];
        int need = (text.Length + 1) * 3;
        if (buf.Length < need)
        {
            buf = new byte[Math.Max(need, buf.Length * 2)];
        }
        int n = 0;
        if (AddSpacePrefix && afterSpecial)
        {
            n += WriteSpace(buf, n);
        }
        // Escape spaces to U+2581 (E2 96 81) while converting to UTF-8.
        int runStart = 0;
        for (int i = 0; i <= text.Length; i++)
        {
            if (i == text.Length || text[i] == ' ')
            {
                n += Encoding.UTF8.GetBytes(text[runStart..i], buf.AsSpan(n));
                if (i < text.Length)
                {
                    n += WriteSpace(buf, n);
                }
                runStart = i + 1;
            }
        }
        t_bytes = buf;
        ReadOnlySpan<byte> all = buf.AsSpan(0, n);
        if (!_splitWords)
        {
            Tokenize(all, output);
            return;
        }
        int start = 0;
        for (int i = 1; i + 2 < all.Length; i++)
        {
            if (all[i] == 0xE2 && all[i + 1] == 0x96 && all[i + 2] == 0x81 && !(i >= 3 && all[i - 3] == 0xE2 && all[i - 2] == 0x96 && all[i - 1] == 0x81))
            {
                EncodeWord(all[start..i], output);
                start = i;
            }
        }
        EncodeWord(all[start..], output);
    }

    private void EncodeWord(ReadOnlySpan<byte> word, List<int> output)
    {
        if (word.Length > 64)
        {
            Tokenize(word, output);
            return;
        }
        if (_cacheLookup.TryGetValue(word, out int[]? cached))
        {
            output.AddRange(cached);
            return;
        }
        int before = output.Count;
        Tokenize(word, output);
        if (_cache.Count > 200_000)
        {
            _cache.Clear();
        }
        _cacheLookup.TryAdd(word, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(output)[before..].ToArray());
    }

    private static int WriteSpace(byte[] buf, int at)
    {
        buf[at] = 0xE2;
        buf[at + 1] = 0x96;
        buf[at + 2] = 0x81;
        return 3;
    }

    private void Tokenize(ReadOnlySpan<byte> text, List<int> output)
    {
        if (text.IsEmpty)
        {
            return;
        }
        Scratch s = t_scratch ??= new Scratch();
        s.Ensure(text.Length);
        int count = 0;
        for (int offs = 0; offs < text.Length;)
        {
            int len = Math.Min(Utf8Length(text[offs]), text.Length - offs);
            s.Start[count] = offs;
            s.Len[count] = len;
            s.Prev[count] = count - 1;
            offs += len;
            s.Next[count] = offs == text.Length ? -1 : count + 1;
            count++;
        }
        int heap = 0;
        for (int i = 1; i < count; i++)
        {
            TryAddBigram(s, text, ref heap, i - 1, i);
        }
        while (heap > 0)
        {
            Bigram b = Pop(s, ref heap);
            int l = b.Left, r = b.Right;
            if (s.Len[l] == 0 || s.Len[r] == 0 || s.Len[l] + s.Len[r] != b.Size)
            {
                continue;
            }
            s.Len[l] += s.Len[r];
            s.Len[r] = 0;
            s.Next[l] = s.Next[r];
            if (s.Next[r] >= 0)
            {
                s.Prev[s.Next[r]] = l;
            }
            TryAddBigram(s, text, ref heap, s.Prev[l], l);
            TryAddBigram(s, text, ref heap, l, s.Next[l]);
        }
        for (int i = 0; i != -1; i = s.Next[i])
        {
            ReadOnlySpan<byte> piece = text.Slice(s.Start[i], s.Len[i]);
            if (_lookup.TryGetValue(piece, out int id))
            {
                output.Add(id);
                continue;
            }
            foreach (byte b in piece)
            {
                int bid = _byteToId[b];
                if (bid >= 0)
                {
                    output.Add(bid);
                }
            }
        }
    }

    private static int Utf8Length(byte lead) => (lead >> 4) switch { 12 or 13 => 2, 14 => 3, 15 => 4, _ => 1 };

    private void TryAddBigram(Scratch s, ReadOnlySpan<byte> text, ref int count, int left, int right)
    {
        if (left < 0 || right < 0)
        {
            return;
        }
        int size = s.Len[left] + s.Len[right];
        if (!_lookup.TryGetValue(text.Slice(s.Start[left], size), out int id))
        {
            return;
        }
        if (count == s.Heap.Length)
        {
            Array.Resize(ref s.Heap, count * 2);
        }
        var c = new Bigram { Score = _scores[id], Left = left, Right = right, Size = size };
        Bigram[] h = s.Heap;
        int i = count++;
        while (i > 0)
        {
            int p = (i - 1) >> 1;
            if (!c.Before(h[p]))
            {
                break;
            }
            h[i] = h[p];
            i = p;
        }
        h[i] = c;
    }

    private static Bigram Pop(Scratch s, ref int count)
    {
        Bigram[] h = s.Heap;
        Bigram top = h[0];
        Bigram last = h[--count];
        int i = 0;
        while (true)
        {
            int c = 2 * i + 1;
            if (c >= count)
            {
                break;
            }
            if (c + 1 < count && h[c + 1].Before(h[c]))
            {
                c++;
            }
            if (!h[c].Before(last))
            {
                break;
            }
            h[i] = h[c];
            i = c;
        }
        if (count > 0)
        {
            h[i] = last;
        }
        return top;
    }
}
