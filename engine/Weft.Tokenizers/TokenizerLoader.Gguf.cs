using System.Text;
using Weft.Core.Gguf;
using Weft.Tokenizers.Loading;
using Weft.Tokenizers.PreTokenization;

namespace Weft.Tokenizers;

public static partial class TokenizerLoader
{
    /// <summary>
    /// Builds the tokenizer a GGUF file describes: <c>tokenizer.ggml.model</c> = llama (SentencePiece BPE),
    /// gpt2 (byte-level BPE with <c>tokenizer.ggml.pre</c>), or bert (WordPiece), with tokens, scores, token types,
    /// merges, BOS/EOS ids and add_bos/add_eos/add_space_prefix.
    /// </summary>
    /// <exception cref="TokenizerFormatException">A key is missing or inconsistent.</exception>
    /// <exception cref="NotSupportedException">Another tokenizer model (t5/ugm, rwkv...).</exception>
    public static Tokenizer FromGguf(GgufFile gguf, TokenizerLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(gguf);
        string src = gguf.FilePath;
        if (!gguf.TryGetString("tokenizer.ggml.model", out string? model))
        {
            throw new TokenizerFormatException(src, "no tokenizer.ggml.model key: the file carries no tokenizer");
        }
        if (!gguf.TryGetStringArray("tokenizer.ggml.tokens", out IReadOnlyList<string>? tokenList))
        {
            throw new TokenizerFormatException(src, "no tokenizer.ggml.tokens array");
        }
        string[] texts = tokenList.ToArray();
        int n = texts.Length;
        var types = new TokenType[n];
        if (gguf.TryGetIntArray("tokenizer.ggml.token_type", out int[]? typeArr))
        {
            if (typeArr.Length != n)
            {
                throw new TokenizerFormatException(src, $"tokenizer.ggml.token_type has {typeArr.Length} entries for {n} tokens");
            }
            for (int i = 0; i < n; i++)
            {
                types[i] = typeArr[i] is >= 0 and <= 6 ? (TokenType)typeArr[i] : TokenType.Normal;
            }
        }
        else
        {
            Array.Fill(types, TokenType.Normal);
        }
        int Id(string key, int fallback)
        {
            if (!gguf.TryGetInt(key, out long v))
            {
                return fallback;
            }
            if (v < -1 || v >= n)
            {
                throw new TokenizerFormatException(src, $"{key} = {v} is outside the vocabulary of {n} tokens");
            }
            return (int)v;
        }
        bool Flag(string key, bool fallback) => gguf.TryGetBool(key, out bool b) ? b : fallback;
        string name = $"{model} {Path.GetFileName(src)}";

        switch (model)
        {
            case "llama":
            {
                float[] scores = gguf.TryGetFloatArray("tokenizer.ggml.scores", out float[]? sc) ? sc : new float[n];
                if (scores.Length != n)
                {
                    throw new TokenizerFormatException(src, $"tokenizer.ggml.scores has {scores.Length} entries for {n} tokens");
                }
                return new SentencePieceTokenizer(name, texts, types, scores, Id("tokenizer.ggml.bos_token_id", 1), Id("tokenizer.ggml.eos_token_id", 2),
                    Flag("tokenizer.ggml.add_bos_token", true), Flag("tokenizer.ggml.add_eos_token", false), Flag("tokenizer.ggml.add_space_prefix", true));
            }
            case "gpt2":
            {
                string preName = options?.PreTokenizer ?? (gguf.TryGetString("tokenizer.ggml.pre", out string? p) ? p : "default");
                PreTokenizer pre = PreTokenizer.ForName(preName);
                bool ignoreMerges = options?.IgnoreMerges ?? preName is "llama3" or "llama-v3" or "llama-bpe" or "falcon3" or "pixtral";
                if (!gguf.TryGetStringArray("tokenizer.ggml.merges", out IReadOnlyList<string>? mergeList))
                {
                    throw new TokenizerFormatException(src, "byte-level BPE vocabulary without tokenizer.ggml.merges");
                }
                var pieces = new byte[n][];
                var mergeable = new bool[n];
                var ids = new Dictionary<string, int>(n);
                for (int i = 0; i < n; i++)
                {
                    if (types[i] is TokenType.Control or TokenType.UserDefined or TokenType.Unknown)
                    {
                        pieces[i] = Encoding.UTF8.GetBytes(texts[i]);
                    }
                    else
                    {
                        ByteLevelMap.TryDecode(texts[i], out pieces[i]);
                        mergeable[i] = true;
                        ids[texts[i]] = i;
                    }
                }
                IEnumerable<(int, int)> Merges()
                {
                    for (int m = 0; m < mergeList.Count; m++)
                    {
                        string line = mergeList[m];
                        int sp = line.Length > 1 ? line.IndexOf(' ', 1) : -1;
                        if (sp < 0)
                        {
                            throw new TokenizerFormatException($"{src}: tokenizer.ggml.merges[{m}]", $"expected 'left right', got '{line}'");
                        }
                        if (ids.TryGetValue(line[..sp], out int l) && ids.TryGetValue(line[(sp + 1)..], out int r))
                        {
                            yield return (l, r);
                        }
                    }
                }
                return BpeBuilder.FromMerges(name, texts, types, pieces, mergeable, Merges(), pre, ignoreMerges,
                    Id("tokenizer.ggml.bos_token_id", 11), Id("tokenizer.ggml.eos_token_id", 11),
                    Flag("tokenizer.ggml.add_bos_token", false), Flag("tokenizer.ggml.add_eos_token", false), src);
            }
            case "bert":
            {
                var starts = new Dictionary<string, int>();
                var conts = new Dictionary<string, int>();
                var pieces = new byte[n][];
                for (int i = 0; i < n; i++)
                {
                    string t = texts[i];
                    if (t.StartsWith('\u2581'))
                    {
                        starts.TryAdd(t[1..], i);
                        pieces[i] = Encoding.UTF8.GetBytes(" " + t[1..]);
                    }
                    else
                    {
                        conts.TryAdd(t, i);
                        pieces[i] = Encoding.UTF8.GetBytes(t);
                    }
                }
                int unk = Id("tokenizer.ggml.unknown_token_id", 100);
                return new WordPieceTokenizer(name, texts, types, pieces, starts, conts, unk,
                    Id("tokenizer.ggml.cls_token_id", 101), Id("tokenizer.ggml.seperator_token_id", 102), addSpecial: true,
                    WordPieceNormalization.LlamaCpp, maxWordChars: 0);
            }
            default:
                throw new NotSupportedException($"{src}: tokenizer.ggml.model '{model}' is not supported (supported: llama, gpt2, bert)");
        }
    }
}
