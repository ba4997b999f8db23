using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Weft.Tokenizers.Models;

/// <summary>
/// Byte-level BPE over raw bytes: a byte → token table, a pair table (left, right) → (rank, merged), an optional
/// whole-word lookup (tiktoken, llama3's <c>ignore_merges</c>) and a word → ids cache. Merging uses a binary heap of
/// candidate pairs over a doubly linked list of symbols: O(n log n) per word, lowest rank first, leftmost on ties.
/// </summary>
internal sealed class BytePairModel
{
    private readonly Dictionary<byte[], int> _tokens;
    private readonly Dictionary<byte[], int>.AlternateLookup<ReadOnlySpan<byte>> _tokenLookup;
    private readonly int[] _byteToId;
    private readonly PairTable _pairs;
    private readonly bool _wholeWordFirst;
    private readonly ConcurrentDictionary<byte[], int[]> _cache = new(ByteArrayComparer.Instance);
    private readonly ConcurrentDictionary<byte[], int[]>.AlternateLookup<ReadOnlySpan<byte>> _cacheLookup;

    private const int MaxCachedWordBytes = 64;
    private const int MaxCacheEntries = 200_000;

    public BytePairModel(Dictionary<byte[], int> tokens, int[] byteToId, PairTable pairs, bool wholeWordFirst)
    {
        _tokens = tokens;
        _tokenLookup = tokens.GetAlternateLookup<ReadOnlySpan<byte>>();
        _byteToId = byteToId;
        _pairs = pairs;
        _wholeWordFirst = wholeWordFirst;
        _cacheLookup = _cache.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    public bool TryGetToken(ReadOnlySpan<byte> bytes, out int id) => _tokenLookup.TryGetValue(bytes, out id);

    public int MergeCount => _pairs.Count;

    public void EncodeWord(ReadOnlySpan<byte> word, List<int> output)
    {
        if (word.IsEmpty)
        {
            return;
        }
        if (word.Length == 1)
        {
            int b = _byteToId[word[0]];
            if (b >= 0)
            {
                output.Add(b);
            }
            return;
        }
        if (_wholeWordFirst && _tokenLookup.TryGetValue(word, out int whole))
        {
            output.Add(whole);
            return;
        }
        bool cacheable = word.Length <= MaxCachedWordBytes;
        if (cacheable && _cacheLookup.TryGetValue(word, out int[]? cached))
        {
            output.AddRange(cached);
            return;
        }
        int before = output.Count;
        Merge(word, output);
        if (cacheable)
        {
            if (_cache.Count >= MaxCacheEntries)
            {
                _cache.Clear();
            }
            _cacheLookup.TryAdd(word, CollectionsMarshal.AsSpan(output)[before..].ToArray());
        }
    }

    [ThreadStatic] private static Scratch? t_scratch;

    private sealed class Scratch
    {
        public int[] Id = new int[64];
        public int[] Prev = new int[64];
        public int[] Next = new int[64];
        public Candidate[] Heap = new Candidate[64];

        public void Ensure(int n)
        {
            if (Id.Length < n)
            {
                int size = Math.Max(n, Id.Length * 2);
                Id = new int[size];
                Prev = new int[size];
                Next = new int[size];
            }
        }
    }

    private struct Candidate
    {
        public int Rank;
        public int Left;
        public int Right;
        public int LeftId;
        public int RightId;
        public int Merged;

        public readonly bool Before(in Candidate o) => Rank < o.Rank || (Rank == o.Rank && Left < o.Left);
    }

    private void Merge(ReadOnlySpan<byte> word, List<int> output)
    {
        Scratch s = t_scratch ??= new Scratch();
        int n = word.Length;
        s.Ensure(n);
        int[] id = s.Id, prev = s.Prev, next = s.Next;
        for (int i = 0; i < n; i++)
        {
            id[i] = _byteToId[word[i]];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        int heapCount = 0;
        for (int i = 0; i + 1 < n; i++)
        {
            TryPush(s, ref heapCount, i, i + 1);
        }
        while (heapCount > 0)
        {
            Candidate top = Pop(s, ref heapCount);
            int l = top.Left, r = top.Right;
            // Stale candidates: a side was merged away or changed since the pair was queued.
            if (id[l] != top.LeftId || id[r] != top.RightId || next[l] != r || id[l] < 0)
            {
                continue;
            }
            id[l] = top.Merged;
            id[r] = -2;
            next[l] = next[r];
            if (next[r] >= 0)
            {
                prev[next[r]] = l;
            }
            if (prev[l] >= 0)
            {
                TryPush(s, ref heapCount, prev[l], l);
            }
            if (next[l] >= 0)
            {
                TryPush(s, ref heapCount, l, next[l]);
            }
        }
        for (int i = 0; i >= 0; i = next[i])
        {
            if (id[i] >= 0)
            {
                output.Add(id[i]);
            }
        }
    }

    private void TryPush(Scratch s, ref int count, int left, int right)
    {
        int a = s.Id[left], b = s.Id[right];
        if (a < 0 || b < 0 || !_pairs.TryGet(a, b, out int rank, out int merged))
        {
            return;
        }
        if (count == s.Heap.Length)
        {
            Array.Resize(ref s.Heap, count * 2);
        }
        Candidate[] h = s.Heap;
        var c = new Candidate { Rank = rank, Left = left, Right = right, LeftId = a, RightId = b, Merged = merged };
        int i = count++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (!c.Before(h[parent]))
            {
                break;
            }
            h[i] = h[parent];
            i = parent;
        }
        h[i] = c;
    }

    private static Candidate Pop(Scratch s, ref int count)
    {
        Candidate[] h = s.Heap;
        Candidate top = h[0];
        Candidate last = h[--count];
        int i = 0;
        while (true)
        {
            int child = 2 * i + 1;
            if (child >= count)
            {
                break;
            }
            if (child + 1 < count && h[child + 1].Before(h[child]))
            {
                child++;
            }
            if (!h[child].Before(last))
            {
                break;
            }
            h[i] = h[child];
            i = child;
        }
        if (count > 0)
        {
            h[i] = last;
        }
        return top;
    }
}
