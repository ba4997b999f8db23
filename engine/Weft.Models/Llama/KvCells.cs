namespace Weft.Models.Llama;

/// <summary>
/// What each row ("cell") of a multi-sequence KV cache holds, as llama.cpp's <c>llama_kv_cells</c>: a position, the set
/// of sequences sharing it (a bit mask: at most 64 sequences) and the token id (kept to answer
/// <see cref="LlamaContext.SeqTokens"/>). A cell with no sequence is free. Sequence copies share cells, so a common
/// prefix is stored once.
/// </summary>
internal sealed class KvCells
{
    /// <summary>Most sequences a context can hold (one bit of a <see cref="ulong"/> each).</summary>
    public const int MaxSequences = 64;

    private readonly int[] _pos;
    private readonly ulong[] _seqs;
    private readonly int[] _tokens;

    public KvCells(int size)
    {
        _pos = new int[size];
        _seqs = new ulong[size];
        _tokens = new int[size];
        Array.Fill(_pos, -1);
    }

    public int Size => _pos.Length;

    /// <summary>Cells holding at least one sequence.</summary>
    public int UsedCount { get; private set; }

    /// <summary>One past the highest used cell: attention only needs cells 0 .. High - 1.</summary>
    public int High { get; private set; }

    public int Pos(int cell) => _pos[cell];

    public ulong Seqs(int cell) => _seqs[cell];

    public static ulong Bit(int seq) => 1UL << seq;

    /// <summary>Highest position of <paramref name="seq"/>, or -1 when it holds none.</summary>
    public int SeqPosMax(int seq)
    {
        ulong bit = Bit(seq);
        int max = -1;
        for (int c = 0; c < High; c++)
        {
            if ((_seqs[c] & bit) != 0 && _pos[c] > max)
            {
                max = _pos[c];
            }
        }
        return max;
    }

    /// <summary>Lowest position of <paramref name="seq"/>, or -1 when it holds none.</summary>
    public int SeqPosMin(int seq)
    {
        ulong bit = Bit(seq);
        int min = -1;
        for (int c = 0; c < High; c++)
        {
            if ((_seqs[c] & bit) != 0 && (min < 0 || _pos[c] < min))
            {
                min = _pos[c];
            }
        }
        return min;
    }

    /// <summary>Token ids of <paramref name="seq"/> in position order.</summary>
    public int[] SeqTokens(int seq)
    {
        ulong bit = Bit(seq);
        var cells = new List<(int Pos, int Token)>();
        for (int c = 0; c < High; c++)
        {
            if ((_seqs[c] & bit) != 0)
            {
                cells.Add((_pos[c], _tokens[c]));
            }
        }
        cells.Sort((a, b) => a.Pos.CompareTo(b.Pos));
        return cells.Select(x => x.Token).ToArray();
    }

    /// <summary>Fills <paramref name="cells"/> with the lowest free cell indices; false when there are not enough.</summary>
    public bool FindFree(Span<int> cells)
    {
        int n = 0;
        for (int c = 0; c < _pos.Length && n < cells.Length; c++)
        {
            if (_seqs[c] == 0)
            {
                cells[n++] = c;
            }
        }
        return n == cells.Length;
    }

    /// <summary>Stores a token of sequences <paramref name="seqs"/> at position <paramref name="pos"/> in the free cell <paramref name="cell"/>.</summary>
    public void Set(int cell, int pos, ulong seqs, int token)
    {
        System.Diagnostics.Debug.Assert(_seqs[cell] == 0 && seqs != 0, "only a free cell is written, and with at least one sequence");
        _pos[cell] = pos;
        _seqs[cell] = seqs;
        _tokens[cell] = token;
        UsedCount++;
        High = Math.Max(High, cell + 1);
    }

    /// <summary>Frees <paramref name="cell"/> whatever it holds.</summary>
    public void Free(int cell)
    {
        if (_seqs[cell] != 0)
        {
            _seqs[cell] = 0;
            _pos[cell] = -1;
            UsedCount--;
            ShrinkHigh();
        }
    }

    /// <summary>Removes the sequences in <paramref name="seqs"/> from the cells whose position is in [p0, p1).</summary>
    public void Remove(ulong seqs, int p0, int p1)
    {
        for (int c = 0; c < High; c++)
        {
            if ((_seqs[c] & seqs) != 0 && _pos[c] >= p0 && _pos[c] < p1)
            {
                Drop(c, seqs);
            }
        }
        ShrinkHigh();
    }

    /// <summary>Adds <paramref name="dst"/> to the cells of <paramref name="src"/> whose position is in [p0, p1).</summary>
    public void Copy(int src, int dst, int p0, int p1)
    {
        ulong s = Bit(src), d = Bit(dst);
        for (int c = 0; c < High; c++)
        {
            if ((_seqs[c] & s) != 0 && _pos[c] >= p0 && _pos[c] < p1)
            {
                _seqs[c] |= d;
            }
        }
    }

    /// <summary>Positions in [p0, p1) that both <paramref name="src"/> and <paramref name="dst"/> hold in different cells
    /// (a copy would give <paramref name="dst"/> two cells at one position); -1 when there is none.</summary>
    public int CopyConflict(int src, int dst, int p0, int p1)
    {
        ulong s = Bit(src), d = Bit(dst);
        var dstPositions = new HashSet<int>();
        for (int c = 0; c < High; c++)
        {
            if ((_seqs[c] & d) != 0 && (_seqs[c] & s) == 0)
            {
                dstPositions.Add(_pos[c]);
            }
        }
        for (int c = 0; c < High; c++)
        {
            if ((_seqs[c] & s) != 0 && (_seqs[c] & d) == 0 && _pos[c] >= p0 && _pos[c] < p1 && dstPositions.Contains(_pos[c]))
            {
                return _pos[c];
            }
        }
        return -1;
    }

    /// <summary>Removes every sequence but <paramref name="seq"/> from every cell.</summary>
    public void Keep(int seq)
    {
        ulong others = ~Bit(seq);
        for (int c = 0; c < High; c++)
        {
            if ((_seqs[c] & others) != 0)
            {
                Drop(c, others);
            }
        }
        ShrinkHigh();
    }

    public void Clear()
    {
        Array.Fill(_pos, -1);
        Array.Clear(_seqs);
        UsedCount = 0;
        High = 0;
    }

    /// <summary>
    /// Writes the attention mask of a batch as F16 bits ([<see cref="Size"/> columns, one row per token]): 0 where token
    /// t may attend to cell c (c holds one of t's sequences at a position ≤ t's), -inf elsewhere. Only the first
    /// <see cref="High"/> columns are read by attention; the rest are written -inf too.
    /// </summary>
    public void FillMask(ReadOnlySpan<int> positions, ReadOnlySpan<ulong> seqs, Span<ushort> mask)
    {
        const ushort Zero = 0x0000, NegInf = 0xFC00;
        int size = _pos.Length;
        for (int t = 0; t < positions.Length; t++)
        {
            Span<ushort> row = mask.Slice(t * size, size);
            int p = positions[t];
            ulong s = seqs[t];
            for (int c = 0; c < High; c++)
            {
                row[c] = (_seqs[c] & s) != 0 && _pos[c] <= p ? Zero : NegInf;
            }
            row[High..].Fill(NegInf);
        }
    }

    private void Drop(int cell, ulong seqs)
    {
        _seqs[cell] &= ~seqs;
        if (_seqs[cell] == 0)
        {
            _pos[cell] = -1;
            UsedCount--;
        }
    }

    private void ShrinkHigh()
    {
        while (High > 0 && _seqs[High - 1] == 0)
        {
            High--;
        }
    }
}
