namespace Weft.Models.Llama;

/// <summary>
/// Tokens to evaluate together with <see cref="LlamaContext.Decode(LlamaBatch)"/>, as llama.cpp's <c>llama_batch</c>:
/// each row is a token, its position, the sequences it belongs to and whether its logits are wanted. Rows of several
/// sequences can be mixed in one batch (a server decodes one token of every active request per step).
/// </summary>
/// <example>
/// Two prompts in one batch, then one token per sequence per step:
/// <code>
/// var batch = new LlamaBatch();
/// for (int i = 0; i &lt; a.Length; i++) batch.Add(a[i], i, seqId: 0, logits: i == a.Length - 1);
/// for (int i = 0; i &lt; b.Length; i++) batch.Add(b[i], i, seqId: 1, logits: i == b.Length - 1);
/// ctx.Decode(batch);
/// int nextA = ArgMax(ctx.BatchLogits(a.Length - 1)), nextB = ArgMax(ctx.BatchLogits(batch.Count - 1));
/// batch.Clear();
/// batch.Add(nextA, a.Length, 0, true).Add(nextB, b.Length, 1, true);
/// ctx.Decode(batch);
/// </code>
/// </example>
public sealed class LlamaBatch
{
    private readonly List<int> _tokens = new();
    private readonly List<int> _positions = new();
    private readonly List<bool> _logits = new();
    private readonly List<int> _seqStart = new();
    private readonly List<int> _seqIds = new();

    /// <summary>Rows in the batch.</summary>
    public int Count => _tokens.Count;

    /// <summary>Rows whose logits are wanted.</summary>
    public int OutputCount { get; private set; }

    /// <summary>Appends a token of one sequence.</summary>
    /// <param name="token">Token id (checked against the vocabulary when decoded).</param>
    /// <param name="pos">Its position in the sequence (0-based).</param>
    /// <param name="seqId">The sequence it belongs to (0 .. <see cref="ContextParams.MaxSequences"/> - 1, checked when decoded).</param>
    /// <param name="logits">Compute this token's logits.</param>
    /// <returns>This batch.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pos"/> or <paramref name="seqId"/> is negative.</exception>
    public LlamaBatch Add(int token, int pos, int seqId, bool logits) => Add(token, pos, [seqId], logits);

    /// <summary>Appends a token shared by several sequences (e.g. a common prompt prefix).</summary>
    /// <param name="token">Token id (checked against the vocabulary when decoded).</param>
    /// <param name="pos">Its position in every one of the sequences (0-based).</param>
    /// <param name="seqIds">The sequences it belongs to: at least one, no duplicates.</param>
    /// <param name="logits">Compute this token's logits.</param>
    /// <returns>This batch.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pos"/> or a sequence id is negative.</exception>
    /// <exception cref="ArgumentException"><paramref name="seqIds"/> is empty or names a sequence twice.</exception>
    public LlamaBatch Add(int token, int pos, ReadOnlySpan<int> seqIds, bool logits)
    {
        if (pos < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(pos), $"Batch row {Count}: position {pos} is negative.");
        }
        if (seqIds.Length == 0)
        {
            throw new ArgumentException($"Batch row {Count}: a token must belong to at least one sequence.", nameof(seqIds));
        }
        for (int i = 0; i < seqIds.Length; i++)
        {
            if (seqIds[i] < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(seqIds), $"Batch row {Count}: sequence id {seqIds[i]} is negative.");
            }
            if (seqIds[..i].Contains(seqIds[i]))
            {
                throw new ArgumentException($"Batch row {Count}: sequence id {seqIds[i]} is listed twice.", nameof(seqIds));
            }
        }
        _tokens.Add(token);
        _positions.Add(pos);
        _logits.Add(logits);
        _seqStart.Add(_seqIds.Count);
        foreach (int s in seqIds)
        {
            _seqIds.Add(s);
        }
        if (logits)
        {
            OutputCount++;
        }
        return this;
    }

    /// <summary>Appends <paramref name="tokens"/> of sequence <paramref name="seqId"/> at positions <paramref name="startPos"/>,
    /// <paramref name="startPos"/> + 1, …; the last one's logits are wanted when <paramref name="logitsForLast"/> is set.</summary>
    /// <returns>This batch.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="startPos"/> or <paramref name="seqId"/> is negative.</exception>
    public LlamaBatch AddSequence(ReadOnlySpan<int> tokens, int startPos, int seqId, bool logitsForLast = true)
    {
        for (int i = 0; i < tokens.Length; i++)
        {
            Add(tokens[i], startPos + i, seqId, logitsForLast && i == tokens.Length - 1);
        }
        return this;
    }

    /// <summary>Removes every row.</summary>
    public void Clear()
    {
        _tokens.Clear();
        _positions.Clear();
        _logits.Clear();
        _seqStart.Clear();
        _seqIds.Clear();
        OutputCount = 0;
    }

    /// <summary>Token id of row <paramref name="row"/>.</summary>
    public int Token(int row) => _tokens[row];

    /// <summary>Position of row <paramref name="row"/>.</summary>
    public int Position(int row) => _positions[row];

    /// <summary>Whether row <paramref name="row"/>'s logits are wanted.</summary>
    public bool WantsLogits(int row) => _logits[row];

    /// <summary>The sequences row <paramref name="row"/> belongs to.</summary>
    public ReadOnlySpan<int> SeqIds(int row)
    {
        int start = _seqStart[row];
        int end = row + 1 < _seqStart.Count ? _seqStart[row + 1] : _seqIds.Count;
        return System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_seqIds)[start..end];
    }
}
