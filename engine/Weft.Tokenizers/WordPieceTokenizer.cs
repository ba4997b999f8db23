using System.Text;
using Weft.Tokenizers.Unicode;

namespace Weft.Tokenizers;

/// <summary>How WordPiece normalises text before splitting.</summary>
public enum WordPieceNormalization
{
    /// <summary>
    /// Hugging Face's BertNormalizer: drop controls, whitespace to space, CJK characters split, lowercase, then NFD and
    /// removal of non-spacing marks (accent stripping).
    /// </summary>
    HuggingFace,
    /// <summary>llama.cpp's WPM: each code point replaced by the first code point of its NFD, then lowercased; no mark removal.</summary>
    LlamaCpp,
    /// <summary>Cased models: no lowercasing and no accent stripping.</summary>
    None,
}

/// <summary>
/// WordPiece (BERT): normalise, split on whitespace and punctuation, then greedy longest-match of each word against
/// word-start pieces and <c>##</c> continuation pieces; a word with no full segmentation becomes [UNK].
/// </summary>
public sealed class WordPieceTokenizer : Tokenizer
{
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _starts;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _continuations;
    private readonly int _unkId;
    private readonly int _maxTokenChars;
    private readonly int _maxWordChars;

    internal WordPieceTokenizer(string name, string[] texts, TokenType[] types, byte[][] pieces, Dictionary<string, int> starts,
        Dictionary<string, int> continuations, int unkId, int clsId, int sepId, bool addSpecial, WordPieceNormalization normalization,
        int maxWordChars)
        : base(name, texts, types, pieces, clsId, sepId, addSpecial, addSpecial)
    {
        _starts = starts.GetAlternateLookup<ReadOnlySpan<char>>();
        _continuations = continuations.GetAlternateLookup<ReadOnlySpan<char>>();
        _unkId = unkId;
        Normalization = normalization;
        _maxWordChars = maxWordChars;
        _maxTokenChars = Math.Max(starts.Keys.DefaultIfEmpty("").Max(k => k.Length), continuations.Keys.DefaultIfEmpty("").Max(k => k.Length));
    }

    /// <summary>The normalisation applied before splitting.</summary>
    public WordPieceNormalization Normalization { get; }

    /// <inheritdoc />
    protected override ReadOnlySpan<byte> TrimFirstPiece(int id, ReadOnlySpan<byte> piece) =>
        piece.Length > 0 && piece[0] == (byte)' ' ? piece[1..] : piece;

    /// <inheritdoc />
    protected override void EncodeText(ReadOnlySpan<char> text, bool afterSpecial, List<int> output)
    {
        var word = new StringBuilder();
        var decomposed = new List<int>(4);
        void Flush()
        {
            if (word.Length > 0)
            {
                EncodeWord(word.ToString(), output);
                word.Clear();
            }
        }
        for (int i = 0; i < text.Length; i++)
        {
            int cp = text[i];
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                cp = char.ConvertToUtf32(text[i], text[i + 1]);
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                cp = 0xFFFD;
            }
            decomposed.Clear();
            switch (Normalization)
            {
                case WordPieceNormalization.LlamaCpp:
                    decomposed.Add(Nfd.First(cp));
                    break;
                case WordPieceNormalization.HuggingFace:
                    Nfd.Decompose(CodepointInfo.ToLower(cp), decomposed);
                    break;
                default:
                    decomposed.Add(cp);
                    break;
            }
            foreach (int c0 in decomposed)
            {
                CodepointFlags f = CodepointInfo.Get(c0);
                if ((f & CodepointFlags.Whitespace) != 0)
                {
                    Flush();
                    continue;
                }
                if (c0 == 0 || c0 == 0xFFFD || (f & CodepointFlags.Other) != 0)
                {
                    continue;
                }
                if (Normalization == WordPieceNormalization.HuggingFace && (f & CodepointFlags.NonSpacingMark) != 0)
                {
                    continue;
                }
                int c = Normalization == WordPieceNormalization.None ? c0 : CodepointInfo.ToLower(c0);
                if ((f & CodepointFlags.Punctuation) != 0 || (c0 < 0x7F && (f & CodepointFlags.Symbol) != 0) || IsChinese(c0))
                {
                    Flush();
                    word.Append(char.ConvertFromUtf32(c));
                    Flush();
                }
                else
                {
                    word.Append(char.ConvertFromUtf32(c));
                }
            }
        }
        Flush();
    }

    private void EncodeWord(string word, List<int> output)
    {
        int before = output.Count;
        if (_maxWordChars > 0 && word.EnumerateRunes().Count() > _maxWordChars)
        {
            output.Add(_unkId);
            return;
        }
        int start = 0;
        while (start < word.Length)
        {
            int found = -1, end = Math.Min(word.Length, start + _maxTokenChars);
            var lookup = start == 0 ? _starts : _continuations;
            for (; end > start; end--)
            {
                if (char.IsLowSurrogate(word[end - 1]) && end - 1 > start && end < word.Length && char.IsLowSurrogate(word[end]))
                {
                    continue;
                }
                if (end < word.Length && char.IsLowSurrogate(word[end]))
                {
                    continue; // never split a surrogate pair
                }
                if (lookup.TryGetValue(word.AsSpan(start, end - start), out int id))
                {
                    found = id;
                    break;
                }
            }
            if (found < 0)
            {
                output.RemoveRange(before, output.Count - before);
                output.Add(_unkId);
                return;
            }
            output.Add(found);
            start = end;
        }
    }

    private static bool IsChinese(int cp) =>
        cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF) or (>= 0x2A700 and <= 0x2B73F)
            or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B920 and <= 0x2CEAF) or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);
}
