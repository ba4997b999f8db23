using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;

namespace Weft.Tokenizers;

/// <summary>
/// A text ↔ token-id codec. Thread-safe: one instance may encode and decode from many threads.
/// </summary>
/// <remarks>
/// Encoding first splits the text at added tokens (user-defined ones always; control tokens such as
/// <c>&lt;|endoftext|&gt;</c> only when <c>parseSpecial</c> is true), then runs the model's algorithm on each raw
/// fragment, the way llama.cpp's <c>llama_tokenize</c> does. Load one with <see cref="TokenizerLoader.Load"/>:
/// <code>
/// Tokenizer tok = TokenizerLoader.Load("cl100k_base.tiktoken");
/// int[] ids = tok.Encode("Hello world", addSpecial: false);
/// string text = tok.Decode(ids);
/// </code>
/// </remarks>
public abstract class Tokenizer
{
    private readonly string[] _texts;
    private readonly TokenType[] _types;
    private readonly byte[][] _pieces;
    private readonly (string Text, int Id, bool Control)[] _specials;

    /// <summary>Creates the shared state: token texts, types, the bytes each token decodes to, and BOS/EOS.</summary>
    /// <exception cref="ArgumentException">Array lengths differ.</exception>
    protected Tokenizer(string name, string[] texts, TokenType[] types, byte[][] pieces, int bosId, int eosId, bool addBos, bool addEos)
    {
        if (texts.Length != types.Length || texts.Length != pieces.Length)
        {
            throw new ArgumentException($"token arrays differ in length: texts {texts.Length}, types {types.Length}, pieces {pieces.Length}");
        }
        Name = name;
        _texts = texts;
        _types = types;
        _pieces = pieces;
        BosId = bosId;
        EosId = eosId;
        AddBos = addBos && bosId >= 0;
        AddEos = addEos && eosId >= 0;
        var specials = new List<(string, int, bool)>();
        for (int i = 0; i < texts.Length; i++)
        {
            if (types[i] is TokenType.Control or TokenType.UserDefined or TokenType.Unknown && texts[i].Length > 0)
            {
                specials.Add((texts[i], i, types[i] != TokenType.UserDefined));
            }
        }
        // Longest first, so that a token containing another wins (llama.cpp sorts the same way).
        _specials = specials.OrderByDescending(s => s.Item1.Length).ThenBy(s => s.Item2).ToArray();
    }

    /// <summary>What kind of tokenizer and from where (for messages and the CLI).</summary>
    public string Name { get; }

    /// <summary>Number of token ids (valid ids are 0 .. VocabSize-1).</summary>
    public int VocabSize => _texts.Length;

    /// <summary>Beginning-of-sequence id (CLS for WordPiece), or -1.</summary>
    public int BosId { get; }

    /// <summary>End-of-sequence id (SEP for WordPiece), or -1.</summary>
    public int EosId { get; }

    /// <summary>Whether <see cref="Encode(string, bool, bool)"/> with <c>addSpecial</c> prepends <see cref="BosId"/>.</summary>
    public bool AddBos { get; }

    /// <summary>Whether <see cref="Encode(string, bool, bool)"/> with <c>addSpecial</c> appends <see cref="EosId"/>.</summary>
    public bool AddEos { get; }

    /// <summary>The stored text of a token (as in the vocabulary file).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Invalid id.</exception>
    public string TokenText(int id) => _texts[CheckId(id)];

    /// <summary>The kind of a token.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Invalid id.</exception>
    public TokenType GetTokenType(int id) => _types[CheckId(id)];

    /// <summary>The bytes a token contributes to decoded text.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Invalid id.</exception>
    public ReadOnlySpan<byte> TokenBytes(int id) => _pieces[CheckId(id)];

    /// <summary>Encodes <paramref name="text"/>.</summary>
    /// <param name="text">The text.</param>
    /// <param name="addSpecial">Add BOS/EOS (CLS/SEP) as the model's metadata asks.</param>
    /// <param name="parseSpecial">Recognise control tokens written in the text (e.g. <c>&lt;|endoftext|&gt;</c>).</param>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    public int[] Encode(string text, bool addSpecial = true, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var list = new List<int>(text.Length / 3 + 4);
        Encode(text.AsSpan(), list, addSpecial, parseSpecial);
        return list.ToArray();
    }

    /// <summary>Encodes UTF-8 bytes; invalid sequences become U+FFFD first (as llama.cpp does).</summary>
    public int[] Encode(ReadOnlySpan<byte> utf8, bool addSpecial = true, bool parseSpecial = false) =>
        Encode(Encoding.UTF8.GetString(utf8), addSpecial, parseSpecial);

    /// <summary>Encodes <paramref name="text"/>, appending ids to <paramref name="output"/>.</summary>
    public void Encode(ReadOnlySpan<char> text, List<int> output, bool addSpecial = true, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (addSpecial && AddBos)
        {
            output.Add(BosId);
        }
        bool afterSpecial = true;
        int rawStart = 0;
        int pos = 0;
        // Scan for added tokens: at each position take the longest token that starts there. Runs in
        // O(n · tokens) only over positions where some token's first character occurs.
        if (_specials.Length > 0)
        {
            SearchValues<char> firsts = FirstChars(parseSpecial);
            while (pos < text.Length)
            {
                int rel = text[pos..].IndexOfAny(firsts);
                if (rel < 0)
                {
                    break;
                }
                pos += rel;
                int match = -1, matchLen = 0;
                foreach ((string t, int id, bool control) in _specials)
                {
                    if (control && !parseSpecial)
                    {
                        continue;
                    }
                    if (t.Length > matchLen && text[pos..].StartsWith(t, StringComparison.Ordinal))
                    {
                        match = id;
                        matchLen = t.Length;
                        break; // longest first
                    }
                }
                if (match < 0)
                {
                    pos++;
                    continue;
                }
                if (pos > rawStart)
                {
                    EncodeText(text[rawStart..pos], afterSpecial, output);
                }
                output.Add(match);
                afterSpecial = true;
                pos += matchLen;
                rawStart = pos;
            }
        }
        if (rawStart < text.Length)
        {
            EncodeText(text[rawStart..], afterSpecial, output);
        }
        if (addSpecial && AddEos)
        {
            output.Add(EosId);
        }
    }

    private SearchValues<char>? _firstsAll, _firstsUser;

    private SearchValues<char> FirstChars(bool parseSpecial)
    {
        ref SearchValues<char>? slot = ref parseSpecial ? ref _firstsAll : ref _firstsUser;
        return slot ??= SearchValues.Create(_specials.Where(s => parseSpecial || !s.Control).Select(s => s.Text[0]).Distinct().ToArray());
    }

    /// <summary>Encodes one raw fragment (no added tokens inside).</summary>
    /// <param name="text">The fragment.</param>
    /// <param name="afterSpecial">True for the first fragment and for one that follows an added token.</param>
    /// <param name="output">Where ids go.</param>
    protected abstract void EncodeText(ReadOnlySpan<char> text, bool afterSpecial, List<int> output);

    /// <summary>Decodes ids to text; invalid UTF-8 becomes U+FFFD.</summary>
    /// <param name="ids">Token ids.</param>
    /// <param name="skipSpecial">Leave out control tokens (BOS, EOS, ...).</param>
    /// <exception cref="ArgumentOutOfRangeException">An id is not in the vocabulary.</exception>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecial = false) => Encoding.UTF8.GetString(DecodeToBytes(ids, skipSpecial));

    /// <summary>Decodes ids to raw bytes (which may end in the middle of a UTF-8 character).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is not in the vocabulary.</exception>
    public byte[] DecodeToBytes(ReadOnlySpan<int> ids, bool skipSpecial = false)
    {
        var buffer = new ArrayBufferWriter<byte>(ids.Length * 4 + 16);
        bool first = true;
        foreach (int id in ids)
        {
            AppendPiece(id, skipSpecial, ref first, buffer);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Creates a streaming decoder that returns only complete UTF-8 characters.</summary>
    public StreamingDetokenizer CreateStreamingDetokenizer(bool skipSpecial = false) => new(this, skipSpecial);

    internal void AppendPiece(int id, bool skipSpecial, ref bool first, IBufferWriter<byte> output)
    {
        CheckId(id);
        if (skipSpecial && _types[id] is TokenType.Control or TokenType.Unknown)
        {
            return;
        }
        ReadOnlySpan<byte> piece = _pieces[id];
        if (first)
        {
            if (_types[id] == TokenType.Control && skipSpecial)
            {
                return;
            }
            piece = TrimFirstPiece(id, piece);
            first = false;
        }
        output.Write(piece);
    }

    /// <summary>Adjusts the first decoded piece (SentencePiece drops the space its prefix added).</summary>
    protected virtual ReadOnlySpan<byte> TrimFirstPiece(int id, ReadOnlySpan<byte> piece) => piece;

    /// <summary>Validates an id.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The id is negative or not below <see cref="VocabSize"/>.</exception>
    protected int CheckId(int id)
    {
        if ((uint)id >= (uint)_texts.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id,
                $"token id {id} is not in the vocabulary of {Name} (valid ids: 0..{_texts.Length - 1})");
        }
        return id;
    }

    /// <summary>Converts text to code points (lone surrogates become U+FFFD) into a pooled array.</summary>
    private protected static int ToCodepoints(ReadOnlySpan<char> text, ref int[] buffer)
    {
        if (buffer.Length < text.Length)
        {
            buffer = new int[Math.Max(text.Length, buffer.Length * 2)];
        }
        int n = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                buffer[n++] = char.ConvertToUtf32(c, text[i + 1]);
                i++;
            }
            else
            {
                buffer[n++] = char.IsSurrogate(c) ? 0xFFFD : c;
            }
        }
        return n;
    }

    /// <summary>Appends the UTF-8 encoding of code points.</summary>
    private protected static int AppendUtf8(ReadOnlySpan<int> cps, ref byte[] buffer, int at)
    {
        if (buffer.Length < at + cps.Length * 4)
        {
            Array.Resize(ref buffer, Math.Max(at + cps.Length * 4, buffer.Length * 2));
        }
        foreach (int cp in cps)
        {
            if (cp < 0x80)
            {
                buffer[at++] = (byte)cp;
            }
            else
            {
                at += new Rune(cp).EncodeToUtf8(buffer.AsSpan(at));
            }
        }
        return at;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({VocabSize} tokens)";

    internal static List<int> NewList() => new();

    internal static Span<int> AsSpan(List<int> list) => CollectionsMarshal.AsSpan(list);
}
