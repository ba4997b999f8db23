namespace Weft.Tokenizers;

/// <summary>Builds SentencePiece tokenizers from plain piece/score lists (llama2.c's tokenizer.bin, tests).</summary>
public static class SentencePieceVocab
{
    /// <summary>
    /// A SentencePiece BPE tokenizer over <paramref name="pieces"/> (U+2581 for spaces) and their merge
    /// <paramref name="scores"/>. Token types follow llama2.c's conventions: <c>&lt;unk&gt;</c> is unknown, the BOS/EOS
    /// ids are control tokens, <c>&lt;0xXX&gt;</c> pieces are byte-fallback tokens, the rest normal.
    /// </summary>
    /// <exception cref="ArgumentException">The lists differ in length or an id is out of range.</exception>
    public static SentencePieceTokenizer FromPieces(string name, string[] pieces, float[] scores, int bosId, int eosId, bool addBos = true, bool addSpacePrefix = true)
    {
        if (pieces.Length != scores.Length)
        {
            throw new ArgumentException($"{pieces.Length} pieces but {scores.Length} scores.");
        }
        if ((uint)bosId >= (uint)pieces.Length || (uint)eosId >= (uint)pieces.Length)
        {
            throw new ArgumentException($"BOS {bosId} / EOS {eosId} outside the {pieces.Length}-token vocabulary.");
        }
        var types = new TokenType[pieces.Length];
        for (int i = 0; i < pieces.Length; i++)
        {
            string p = pieces[i];
            types[i] = i == bosId || i == eosId ? TokenType.Control
                : p == "<unk>" ? TokenType.Unknown
                : p.Length == 6 && p.StartsWith("<0x", StringComparison.Ordinal) && p[5] == '>' && Uri.IsHexDigit(p[3]) && Uri.IsHexDigit(p[4]) ? TokenType.Byte
                : TokenType.Normal;
        }
        return new SentencePieceTokenizer(name, pieces, types, scores, bosId, eosId, addBos, addEos: false, addSpacePrefix);
    }
}
