using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Weft.Core;
using Weft.Core.IO;

namespace Weft.Models.Llama;

/// <summary>A context state file is malformed, truncated, or was written for another model or KV cache type.</summary>
/// <param name="path">The state file.</param>
/// <param name="message">What is wrong.</param>
/// <param name="inner">The underlying error, if any.</param>
public sealed class ContextStateException(string path, string message, Exception? inner = null)
    : IOException($"{path}: {message}", inner)
{
    /// <summary>The state file.</summary>
    public string FilePath { get; } = path;
}

public sealed partial class LlamaContext
{
    /// <summary>Magic number of a context state file ("WFTS", little-endian).</summary>
    public const uint StateMagic = 0x53544657;

    /// <summary>Version of the context state file format written by <see cref="SaveState"/>.</summary>
    public const uint StateVersion = 1;

    // Header: magic, version, n_layer, n_embd, n_embd_kv, n_vocab, kv type, n_tokens (u32 each), payload length,
    // frame length (u64 each). The payload (one LZ4 frame) holds the token ids (i32 × n_tokens), the last logits
    // (f32 × n_vocab) and per layer the K then V cache rows 0 .. n_tokens.
    private const int StateHeaderSize = 8 * 4 + 2 * 8;

    /// <summary>
    /// Writes the cached positions (KV rows 0 .. <see cref="Position"/>), the token history and the last logits to
    /// <paramref name="path"/>, LZ4-compressed behind a versioned header naming the model shape and KV type. The file is
    /// written to a temporary name beside <paramref name="path"/>, flushed to disk and then renamed over it, so a
    /// crash never leaves a half-written state under <paramref name="path"/>.
    /// </summary>
    /// <exception cref="Lz4Exception">The system liblz4 is missing.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <exception cref="NotSupportedException">The state is larger than 2 GB, or the context holds several sequences
    /// (<see cref="ContextParams.MaxSequences"/> above 1: the file format has no place for the rows' sequence ids yet).</exception>
    public void SaveState(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        RequireSingleSequence("save");
        long length = StatePayloadLength(Position);
        if (length > Array.MaxLength)
        {
            throw new NotSupportedException($"The state of {Position} tokens takes {length} bytes, more than one state file section can hold ({Array.MaxLength}).");
        }
        byte[] payload = new byte[length];
        int at = 0;
        MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(_history)).CopyTo(payload);
        at += _history.Count * sizeof(int);
        MemoryMarshal.AsBytes(_lastLogits.AsSpan()).CopyTo(payload.AsSpan(at));
        at += _lastLogits.Length * sizeof(float);
        for (int il = 0; il < _cache.K.Length; il++)
        {
            foreach (Tensor t in new[] { _cache.K[il], _cache.V[il] })
            {
                int n = checked((int)(t.Nb[1] * Position));
                t.Buffer!.Read(t.Offset, payload.AsSpan(at, n));
                at += n;
            }
        }
        byte[] frame = Lz4Frame.Compress(payload);

        Span<byte> header = stackalloc byte[StateHeaderSize];
        LlamaHParams hp = _model.HParams;
        uint[] fields = [StateMagic, StateVersion, (uint)hp.NLayer, (uint)hp.NEmbd, (uint)hp.NEmbdKv, (uint)hp.NVocab, (uint)_cache.Type, (uint)Position];
        for (int i = 0; i < fields.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(header[(4 * i)..], fields[i]);
        }
        BinaryPrimitives.WriteUInt64LittleEndian(header[32..], (ulong)payload.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(header[40..], (ulong)frame.Length);

        string full = System.IO.Path.GetFullPath(path);
        string tmp = full + $".tmp{Environment.ProcessId}";
        try
        {
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                fs.Write(header);
                fs.Write(frame);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>
    /// Replaces this context's state with the one saved by <see cref="SaveState"/>: the KV rows, token history and last
    /// logits. The file must come from a model of the same shape (n_layer, n_embd, n_embd_kv, vocabulary) and a
    /// context with the same KV cache type, and its tokens must fit in this context. On failure the context is left
    /// unchanged.
    /// </summary>
    /// <exception cref="ContextStateException">The file is not a state file, has another version, was written for
    /// another model or KV type, holds more tokens than this context, or is truncated or corrupt.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="NotSupportedException">This context holds several sequences (<see cref="ContextParams.MaxSequences"/> above 1).</exception>
    public void LoadState(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        RequireSingleSequence("load");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Context state file not found: {path}", path);
        }
        byte[] file = File.ReadAllBytes(path);
        if (file.Length < StateHeaderSize)
        {
            throw new ContextStateException(path, $"truncated: {file.Length} bytes, shorter than the {StateHeaderSize}-byte header");
        }
        ReadOnlySpan<byte> h = file;
        uint U(int i) => BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(4 * i));
        if (U(0) != StateMagic)
        {
            throw new ContextStateException(path, $"not a Weft context state file (magic 0x{U(0):X8} at offset 0, expected 0x{StateMagic:X8})");
        }
        if (U(1) != StateVersion)
        {
            throw new ContextStateException(path, $"state format version {U(1)} at offset 4 is not supported (this build reads version {StateVersion})");
        }
        LlamaHParams hp = _model.HParams;
        Check(path, "n_layer", 8, U(2), hp.NLayer);
        Check(path, "n_embd", 12, U(3), hp.NEmbd);
        Check(path, "n_embd_kv", 16, U(4), hp.NEmbdKv);
        Check(path, "n_vocab", 20, U(5), hp.NVocab);
        if (U(6) != (uint)_cache.Type)
        {
            string saved = Enum.IsDefined(typeof(DType), (int)U(6)) ? TypeTraits.Of((DType)U(6)).Name : $"#{U(6)}";
            throw new ContextStateException(path, $"the state holds a {saved} KV cache but this context's is {TypeTraits.Of(_cache.Type).Name} (field kv_type at offset 24)");
        }
        uint nTokens = U(7);
        if (nTokens > (uint)_cache.Size)
        {
            throw new ContextStateException(path, $"the state holds {nTokens} tokens but this context has room for {_cache.Size} (field n_tokens at offset 28)");
        }
        ulong payloadLength = BinaryPrimitives.ReadUInt64LittleEndian(h[32..]);
        ulong frameLength = BinaryPrimitives.ReadUInt64LittleEndian(h[40..]);
        long expected = StatePayloadLength((int)nTokens);
        if (payloadLength != (ulong)expected)
        {
            throw new ContextStateException(path, $"payload length {payloadLength} at offset 32 does not match the {expected} bytes that {nTokens} tokens need");
        }
        if (frameLength != (ulong)(file.Length - StateHeaderSize))
        {
            throw new ContextStateException(path, $"truncated or padded: the header declares a {frameLength}-byte LZ4 frame at offset {StateHeaderSize} but {file.Length - StateHeaderSize} bytes follow");
        }
        byte[] payload;
        try
        {
            payload = Lz4Frame.Decompress(h[StateHeaderSize..], expected);
        }
        catch (Lz4Exception e)
        {
            throw new ContextStateException(path, $"the compressed state at offset {StateHeaderSize} is corrupt: {e.Message}", e);
        }

        ReadOnlySpan<int> tokens = MemoryMarshal.Cast<byte, int>(payload.AsSpan(0, (int)nTokens * sizeof(int)));
        int nVocab = hp.NVocab;
        foreach (int t in tokens)
        {
            if ((uint)t >= (uint)nVocab)
            {
                throw new ContextStateException(path, $"token id {t} in the saved history is outside the vocabulary (0..{nVocab - 1})");
            }
        }
        int at = tokens.Length * sizeof(int);
        _history.Clear();
        _history.AddRange(tokens.ToArray());
        payload.AsSpan(at, nVocab * sizeof(float)).CopyTo(MemoryMarshal.AsBytes(_lastLogits.AsSpan()));
        at += nVocab * sizeof(float);
        for (int il = 0; il < _cache.K.Length; il++)
        {
            foreach (Tensor t in new[] { _cache.K[il], _cache.V[il] })
            {
                int n = checked((int)(t.Nb[1] * nTokens));
                t.Buffer!.Write(t.Offset, payload.AsSpan(at, n));
                at += n;
            }
        }
        _cache.Used = (int)nTokens;
    }

    private void RequireSingleSequence(string verb)
    {
        if (_cells is not null)
        {
            throw new NotSupportedException(
                $"Cannot {verb} the state of a context with MaxSequences = {MaxSequences}: state files hold one sequence (rows 0..n in order), not the rows' sequence ids; use a single-sequence context (MaxSequences = 1).");
        }
    }

    private long StatePayloadLength(int nTokens)
    {
        long kv = 0;
        for (int il = 0; il < _cache.K.Length; il++)
        {
            kv += (_cache.K[il].Nb[1] + _cache.V[il].Nb[1]) * nTokens;
        }
        return (long)nTokens * sizeof(int) + (long)_model.HParams.NVocab * sizeof(float) + kv;
    }

    private static void Check(string path, string field, int offset, uint saved, int actual)
    {
        if (saved != (uint)actual)
        {
            throw new ContextStateException(path, $"written for another model: {field} is {saved} in the file (offset {offset}) but {actual} in this model");
        }
    }
}
