using System.Runtime.InteropServices;
using Weft.Core;

namespace Weft.Models.Llama;

public sealed partial class LlamaContext
{
    private float[] _batchLogits = [];
    private int[] _rowOutput = [];
    private int _batchRows;
    private ushort[]? _maskHost;
    private int[]? _cellIdx;
    private ulong[]? _rowSeqs;

    /// <summary>Sequences this context can hold (<see cref="ContextParams.MaxSequences"/>).</summary>
    public int MaxSequences => Params.MaxSequences;

    /// <summary>Cache rows not holding any sequence's token.</summary>
    public int FreeCells => Size - (_cells?.UsedCount ?? _cache.Used);

    /// <summary>
    /// Evaluates a batch of tokens, possibly of several sequences (llama.cpp's <c>llama_decode</c>); afterwards
    /// <see cref="BatchLogits"/> gives the logits of each row that asked for them, and <see cref="Logits"/> those of the
    /// last such row. Every row of a sequence must continue it: its position is one past the sequence's last one (a
    /// sequence holding nothing may start anywhere). Batches longer than <see cref="ContextParams.BatchSize"/> are
    /// evaluated in order in several graphs. The batch is checked whole before anything is evaluated; a backend failure
    /// part-way leaves the rows of the earlier graphs in the cache.
    /// </summary>
    /// <remarks>In a single-sequence context (<see cref="ContextParams.MaxSequences"/> = 1) every row must belong to
    /// sequence 0 only, and this runs the same graphs as <see cref="Decode(ReadOnlySpan{int})"/>.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="batch"/> is null.</exception>
    /// <exception cref="ArgumentException">The batch is empty, a token id is outside the vocabulary, or a row does not
    /// continue its sequence (position gap, repeated position).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A sequence id is not below <see cref="MaxSequences"/>.</exception>
    /// <exception cref="ContextFullException">The batch is longer than the context, or there are not enough free cache
    /// rows (remove sequences with <see cref="SeqRemove"/> or <see cref="SeqKeep"/> first).</exception>
    public void Decode(LlamaBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        int n = batch.Count;
        if (n == 0)
        {
            throw new ArgumentException("Nothing to evaluate: the batch is empty.", nameof(batch));
        }
        int nVocab = _model.HParams.NVocab;
        for (int i = 0; i < n; i++)
        {
            int t = batch.Token(i);
            if ((uint)t >= (uint)nVocab)
            {
                throw new ArgumentException($"Batch row {i}: token id {t} is outside the vocabulary (0..{nVocab - 1}).", nameof(batch));
            }
            foreach (int s in batch.SeqIds(i))
            {
                if (s >= MaxSequences)
                {
                    throw new ArgumentOutOfRangeException(nameof(batch),
                        $"Batch row {i}: sequence id {s} is outside 0..{MaxSequences - 1} (ContextParams.MaxSequences = {MaxSequences}).");
                }
            }
        }
        if (n > Size)
        {
            throw new ContextFullException(n, Size, $"A batch of {n} tokens is larger than the context ({Size} tokens); split it or use a larger context.");
        }
        if (_cells is null)
        {
            DecodeSingle(batch);
        }
        else
        {
            DecodeCells(batch);
        }
    }

    /// <summary>The logits of row <paramref name="row"/> of the last <see cref="Decode(LlamaBatch)"/> (llama.cpp's <c>llama_get_logits_ith</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="row"/> is not a row of the last batch.</exception>
    /// <exception cref="InvalidOperationException">That row did not ask for logits.</exception>
    public ReadOnlySpan<float> BatchLogits(int row)
    {
        if ((uint)row >= (uint)_batchRows)
        {
            throw new ArgumentOutOfRangeException(nameof(row), $"Row {row} is not a row of the last decoded batch (0..{_batchRows - 1}).");
        }
        int o = _rowOutput[row];
        if (o < 0)
        {
            throw new InvalidOperationException($"Batch row {row} did not ask for logits (pass logits: true to LlamaBatch.Add).");
        }
        int nVocab = _model.HParams.NVocab;
        return _batchLogits.AsSpan(o * nVocab, nVocab);
    }

    /// <summary>
    /// Removes the positions [<paramref name="p0"/>, <paramref name="p1"/>) of sequence <paramref name="seq"/> from the
    /// cache (llama.cpp's <c>llama_memory_seq_rm</c>); a row shared with other sequences stays for them. A negative
    /// <paramref name="seq"/> means every sequence, a negative <paramref name="p0"/> 0 and a negative <paramref name="p1"/>
    /// the end.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="seq"/> is not below <see cref="MaxSequences"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="p0"/> is beyond <paramref name="p1"/>.</exception>
    /// <exception cref="NotSupportedException">A single-sequence context cannot remove positions that later ones follow
    /// (it keeps position p in row p): only a tail can go; use <see cref="ContextParams.MaxSequences"/> ≥ 2.</exception>
    public void SeqRemove(int seq, int p0, int p1)
    {
        if (seq >= 0)
        {
            CheckSeq(seq, nameof(seq));
        }
        (p0, p1) = Range(p0, p1);
        if (_cells is not null)
        {
            _cells.Remove(seq < 0 ? ulong.MaxValue : KvCells.Bit(seq), p0, p1);
            _cache.Used = _cells.UsedCount;
            return;
        }
        int used = _cache.Used;
        if (p0 >= used || p0 == p1)
        {
            return;
        }
        if (p1 < used)
        {
            throw new NotSupportedException(
                $"A single-sequence context cannot remove positions {p0}..{p1 - 1} while {p1}..{used - 1} follow (it keeps position p in row p); remove the tail from {p0} on, or create the context with MaxSequences ≥ 2.");
        }
        Truncate(p0);
    }

    /// <summary>
    /// Makes sequence <paramref name="dst"/> share the cached positions [<paramref name="p0"/>, <paramref name="p1"/>)
    /// of <paramref name="src"/> (llama.cpp's <c>llama_memory_seq_cp</c>): the rows are shared, not duplicated, so a
    /// common prompt is evaluated and stored once. Negative <paramref name="p0"/> means 0, negative <paramref name="p1"/> the end.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A sequence id is negative or not below <see cref="MaxSequences"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="p0"/> is beyond <paramref name="p1"/>, or <paramref name="dst"/>
    /// already holds one of the copied positions in another row (remove it first with <see cref="SeqRemove"/>).</exception>
    public void SeqCopy(int src, int dst, int p0 = -1, int p1 = -1)
    {
        CheckSeq(src, nameof(src));
        CheckSeq(dst, nameof(dst));
        (p0, p1) = Range(p0, p1);
        if (src == dst || _cells is null)
        {
            return;
        }
        int conflict = _cells.CopyConflict(src, dst, p0, p1);
        if (conflict >= 0)
        {
            throw new ArgumentException(
                $"Sequence {dst} already holds position {conflict}, which copying sequence {src} would give it a second time; remove it first with SeqRemove({dst}, {conflict}, -1).");
        }
        _cells.Copy(src, dst, p0, p1);
    }

    /// <summary>Removes every sequence but <paramref name="seq"/> from the cache (llama.cpp's <c>llama_memory_seq_keep</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="seq"/> is negative or not below <see cref="MaxSequences"/>.</exception>
    public void SeqKeep(int seq)
    {
        CheckSeq(seq, nameof(seq));
        if (_cells is not null)
        {
            _cells.Keep(seq);
            _cache.Used = _cells.UsedCount;
        }
    }

    /// <summary>The highest cached position of sequence <paramref name="seq"/>, or -1 when it holds none (llama.cpp's <c>llama_memory_seq_pos_max</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="seq"/> is negative or not below <see cref="MaxSequences"/>.</exception>
    public int SeqPosMax(int seq)
    {
        CheckSeq(seq, nameof(seq));
        return _cells is null ? _cache.Used - 1 : _cells.SeqPosMax(seq);
    }

    /// <summary>The lowest cached position of sequence <paramref name="seq"/>, or -1 when it holds none (llama.cpp's <c>llama_memory_seq_pos_min</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="seq"/> is negative or not below <see cref="MaxSequences"/>.</exception>
    public int SeqPosMin(int seq)
    {
        CheckSeq(seq, nameof(seq));
        return _cells is null ? (_cache.Used > 0 ? 0 : -1) : _cells.SeqPosMin(seq);
    }

    /// <summary>The cached token ids of sequence <paramref name="seq"/>, in position order.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="seq"/> is negative or not below <see cref="MaxSequences"/>.</exception>
    public int[] SeqTokens(int seq)
    {
        CheckSeq(seq, nameof(seq));
        return _cells is null ? _history.ToArray() : _cells.SeqTokens(seq);
    }

    private void CheckSeq(int seq, string name)
    {
        if ((uint)seq >= (uint)MaxSequences)
        {
            throw new ArgumentOutOfRangeException(name, $"Sequence id {seq} is outside 0..{MaxSequences - 1} (ContextParams.MaxSequences = {MaxSequences}).");
        }
    }

    private static (int P0, int P1) Range(int p0, int p1)
    {
        p0 = Math.Max(p0, 0);
        p1 = p1 < 0 ? int.MaxValue : p1;
        if (p0 > p1)
        {
            throw new ArgumentException($"Position range {p0}..{p1} is reversed: the start must not be beyond the end.");
        }
        return (p0, p1);
    }

    private void SetOutputs(LlamaBatch batch)
    {
        int n = batch.Count, nVocab = _model.HParams.NVocab;
        if (_rowOutput.Length < n)
        {
            _rowOutput = new int[n];
        }
        int o = 0;
        for (int i = 0; i < n; i++)
        {
            _rowOutput[i] = batch.WantsLogits(i) ? o++ : -1;
        }
        _batchRows = n;
        long need = (long)o * nVocab;
        if (_batchLogits.Length < need)
        {
            _batchLogits = new float[need];
        }
    }

    // One sequence: the rows must be sequence 0's next positions, so the batch is an ordinary append.
    private void DecodeSingle(LlamaBatch batch)
    {
        int n = batch.Count, nVocab = _model.HParams.NVocab;
        var tokens = new int[n];
        int outputs = batch.OutputCount;
        for (int i = 0; i < n; i++)
        {
            int expected = _cache.Used + i;
            if (batch.Position(i) != expected)
            {
                throw new ArgumentException(
                    $"Batch row {i}: sequence 0 continues at position {expected}, not {batch.Position(i)} (a sequence's new tokens follow its last position; remove positions with SeqRemove first to rewrite them).", nameof(batch));
            }
            tokens[i] = batch.Token(i);
        }
        bool lastOnly = outputs == 0 || (outputs == 1 && batch.WantsLogits(n - 1));
        float[]? all = lastOnly ? null : new float[(long)n * nVocab];
        Run(tokens, all);
        SetOutputs(batch);
        for (int i = 0; i < n; i++)
        {
            int o = _rowOutput[i];
            if (o >= 0)
            {
                ReadOnlySpan<float> src = all is null ? _lastLogits : all.AsSpan(i * nVocab, nVocab);
                src.CopyTo(_batchLogits.AsSpan(o * nVocab, nVocab));
            }
        }
    }

    // Several sequences: place each row in a free cache row, then attend through the mask of what each row may see.
    private void DecodeCells(LlamaBatch batch)
    {
        KvCells cells = _cells!;
        int n = batch.Count, nVocab = _model.HParams.NVocab;
        // Each sequence's next position: unknown until first needed, then advanced row by row, so gaps and repeats
        // within the batch are caught as well as against the cache. -1: the sequence is empty and may start anywhere.
        const int Unknown = int.MinValue;
        Span<int> next = stackalloc int[KvCells.MaxSequences];
        next.Fill(Unknown);
        var rowSeqs = new ulong[n];
        for (int i = 0; i < n; i++)
        {
            int pos = batch.Position(i);
            foreach (int s in batch.SeqIds(i))
            {
                if (next[s] == Unknown)
                {
                    int max = cells.SeqPosMax(s);
                    next[s] = max < 0 ? -1 : max + 1;
                }
                if (next[s] >= 0 && pos != next[s])
                {
                    throw new ArgumentException(
                        $"Batch row {i}: sequence {s} continues at position {next[s]}, not {pos} (a sequence's new tokens follow its last position; remove positions with SeqRemove first to rewrite them).", nameof(batch));
                }
                next[s] = pos + 1;
                rowSeqs[i] |= KvCells.Bit(s);
            }
        }
        int free = Size - cells.UsedCount;
        if (free < n)
        {
            throw new ContextFullException(cells.UsedCount + n, Size,
                $"The KV cache has {free} free rows of {Size} but the batch needs {n}; free some with SeqRemove/SeqKeep, or use a larger context.");
        }

        SetOutputs(batch);
        int chunk = Math.Min(Params.BatchSize, Size);
        _cellIdx ??= new int[chunk];
        _rowSeqs ??= new ulong[chunk];
        _maskHost ??= new ushort[(long)Size * chunk];
        int done = 0, outDone = 0;
        while (done < n)
        {
            int m = Math.Min(chunk, n - done);
            int outs = 0;
            for (int j = 0; j < m; j++)
            {
                outs += batch.WantsLogits(done + j) ? 1 : 0;
            }
            // A graph has at least one output; when no row wants logits the last row's are computed and dropped.
            LlamaGraph.Batch b = GraphFor(m, Math.Max(outs, 1), masked: true);
            Span<int> cellIdx = _cellIdx.AsSpan(0, m);
            bool found = cells.FindFree(cellIdx);
            System.Diagnostics.Debug.Assert(found, "free rows were counted before the first chunk");
            int[] tok = new int[m];
            Span<int> pos = _positions.AsSpan(0, m);
            Span<ulong> seqs = _rowSeqs.AsSpan(0, m);
            for (int j = 0; j < m; j++)
            {
                tok[j] = batch.Token(done + j);
                pos[j] = batch.Position(done + j);
                seqs[j] = rowSeqs[done + j];
                cells.Set(cellIdx[j], pos[j], seqs[j], tok[j]);
            }
            _cache.Used = cells.UsedCount;
            Span<ushort> mask = _maskHost.AsSpan(0, Size * m);
            cells.FillMask(pos, seqs, mask);

            WriteInts(b.Tokens, tok);
            WriteInts(b.Positions, pos);
            WriteInts(b.Cells!, cellIdx);
            b.Mask!.Buffer!.Write(b.Mask.Offset, MemoryMarshal.AsBytes(mask));
            _kvLen[0] = cells.High;
            WriteInts(b.KvLength, _kvLen);
            if (b.OutputRows is Tensor outRows)
            {
                int[] picked = new int[outRows.Ne[0]];
                int k = 0;
                for (int j = 0; j < m && k < picked.Length; j++)
                {
                    if (batch.WantsLogits(done + j))
                    {
                        picked[k++] = j;
                    }
                }
                if (k == 0)
                {
                    picked[0] = m - 1;
                }
                WriteInts(outRows, picked);
            }
            Status st = _scheduler.Compute(b.Graph);
            if (st != Status.Success)
            {
                foreach (int c in cellIdx)
                {
                    cells.Free(c);
                }
                _cache.Used = cells.UsedCount;
                throw new InvalidOperationException($"Evaluating a batch of {m} tokens (rows {done}..{done + m - 1}) failed: {st}.");
            }
            if (outs > 0)
            {
                ReadFloats(b.Logits, _batchLogits.AsSpan(outDone * nVocab, outs * nVocab));
                outDone += outs;
            }
            done += m;
        }
        if (outDone > 0)
        {
            _batchLogits.AsSpan((outDone - 1) * nVocab, nVocab).CopyTo(_lastLogits);
        }
    }

    // The single-sequence members in a multi-sequence context: tokens of sequence 0 after its last position.
    private ReadOnlySpan<float> RunSequenceZero(ReadOnlySpan<int> tokens, float[]? all)
    {
        var batch = new LlamaBatch();
        int start = Position;
        for (int i = 0; i < tokens.Length; i++)
        {
            batch.Add(tokens[i], start + i, 0, all is not null || i == tokens.Length - 1);
        }
        Decode(batch);
        if (all is not null)
        {
            _batchLogits.AsSpan(0, all.Length).CopyTo(all);
        }
        return _lastLogits;
    }
}
