using System.Text;
using System.Text.Json;
using Weft.Core.Gguf;
using Weft.Tokenizers.Loading;
using Weft.Tokenizers.PreTokenization;

namespace Weft.Tokenizers;

/// <summary>
/// Loads tokenizers from GGUF metadata, Hugging Face <c>tokenizer.json</c>, tiktoken rank files, and GPT-2
/// <c>encoder.json</c> + <c>vocab.bpe</c> (or <c>vocab.bpe</c> alone, whose ids follow from the merge order).
/// </summary>
public static partial class TokenizerLoader
{
    /// <summary>Loads by file type: <c>.gguf</c>, <c>.tiktoken</c>, <c>encoder.json</c> (with <c>vocab.bpe</c> beside it),
    /// <c>vocab.bpe</c>, or any other <c>.json</c> as a Hugging Face tokenizer.json.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="TokenizerFormatException">The file is malformed.</exception>
    /// <exception cref="NotSupportedException">The tokenizer kind is not supported.</exception>
    public static Tokenizer Load(string path, TokenizerLoadOptions? options = null)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"tokenizer file not found: {path}", path);
        }
        string name = Path.GetFileName(path).ToLowerInvariant();
        if (name.EndsWith(".gguf", StringComparison.Ordinal))
        {
            using GgufFile gguf = GgufFile.Open(path);
            return FromGguf(gguf, options);
        }
        if (name.EndsWith(".tiktoken", StringComparison.Ordinal))
        {
            return FromTiktoken(path, options);
        }
        if (name.EndsWith("encoder.json", StringComparison.Ordinal))
        {
            string merges = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "vocab.bpe");
            return FromGpt2Files(path, merges, options);
        }
        if (name.EndsWith(".bpe", StringComparison.Ordinal))
        {
            return FromGpt2Merges(path, options);
        }
        if (name.EndsWith(".json", StringComparison.Ordinal))
        {
            return FromHuggingFace(path, options);
        }
        throw new NotSupportedException($"{path}: unknown tokenizer file type; expected .gguf, .tiktoken, encoder.json, vocab.bpe or tokenizer.json");
    }

    // ---------------------------------------------------------------- tiktoken

    private static readonly Dictionary<string, (string Text, int Id)[]> s_tiktokenSpecials = new()
    {
        ["cl100k_base"] = [("<|endoftext|>", 100257), ("<|fim_prefix|>", 100258), ("<|fim_middle|>", 100259), ("<|fim_suffix|>", 100260), ("<|endofprompt|>", 100276)],
        ["o200k_base"] = [("<|endoftext|>", 199999), ("<|endofprompt|>", 200018)],
        ["p50k_base"] = [("<|endoftext|>", 50256)],
        ["p50k_edit"] = [("<|endoftext|>", 50256), ("<|fim_prefix|>", 50281), ("<|fim_middle|>", 50282), ("<|fim_suffix|>", 50283)],
        ["r50k_base"] = [("<|endoftext|>", 50256)],
    };

    /// <summary>
    /// Loads a tiktoken rank file (<c>base64 rank</c> per line). The encoding (pattern and special tokens) comes from
    /// <see cref="TokenizerLoadOptions.PreTokenizer"/> or else from the file name (cl100k_base, o200k_base, p50k_base, r50k_base).
    /// </summary>
    /// <exception cref="TokenizerFormatException">A line is malformed (the message gives the line number).</exception>
    public static BpeTokenizer FromTiktoken(string path, TokenizerLoadOptions? options = null)
    {
        string encoding = options?.PreTokenizer ?? Path.GetFileNameWithoutExtension(path).ToLowerInvariant();
        PreTokenizer pre;
        try
        {
            pre = PreTokenizer.ForName(encoding);
        }
        catch (NotSupportedException e)
        {
            throw new NotSupportedException($"{path}: cannot tell the tiktoken encoding from the file name; pass a pre-tokenizer ({e.Message})");
        }
        var ranks = new List<(byte[] Bytes, int Rank)>();
        int lineNo = 0, maxRank = -1;
        foreach (string line in File.ReadLines(path))
        {
            lineNo++;
            if (line.Length == 0)
            {
                continue;
            }
            int sp = line.IndexOf(' ');
            byte[] bytes;
            if (sp <= 0 || !int.TryParse(line.AsSpan(sp + 1), out int rank) || rank < 0)
            {
                throw new TokenizerFormatException($"{path}:{lineNo}", "expected '<base64> <rank>'");
            }
            try
            {
                bytes = Convert.FromBase64String(line[..sp]);
            }
            catch (FormatException e)
            {
                throw new TokenizerFormatException($"{path}:{lineNo}", "invalid base64 token", e);
            }
            ranks.Add((bytes, rank));
            maxRank = Math.Max(maxRank, rank);
        }
        if (ranks.Count == 0)
        {
            throw new TokenizerFormatException(path, "no ranks in file");
        }
        var specials = new List<(string Text, int Id)>(s_tiktokenSpecials.GetValueOrDefault(encoding) ?? []);
        if (options?.SpecialTokens is { } extra)
        {
            specials.AddRange(extra.Select(kv => (kv.Key, kv.Value)));
        }
        int size = Math.Max(maxRank, specials.Count == 0 ? -1 : specials.Max(s => s.Id)) + 1;
        var texts = new string[size];
        var types = new TokenType[size];
        var pieces = new byte[size][];
        var mergeable = new bool[size];
        Array.Fill(texts, "");
        Array.Fill(types, TokenType.Unused);
        Array.Fill(pieces, Array.Empty<byte>());
        foreach ((byte[] bytes, int rank) in ranks)
        {
            if (mergeable[rank])
            {
                throw new TokenizerFormatException(path, $"rank {rank} appears twice");
            }
            texts[rank] = ByteLevelMap.Encode(bytes);
            types[rank] = TokenType.Normal;
            pieces[rank] = bytes;
            mergeable[rank] = true;
        }
        foreach ((string text, int id) in specials)
        {
            if (mergeable[id])
            {
                throw new TokenizerFormatException(path, $"special token {text} id {id} collides with a rank");
            }
            texts[id] = text;
            types[id] = TokenType.Control;
            pieces[id] = Encoding.UTF8.GetBytes(text);
        }
        int eot = specials.Where(s => s.Text == "<|endoftext|>").Select(s => s.Id).DefaultIfEmpty(-1).First();
        return BpeBuilder.FromRanks($"tiktoken {encoding}", texts, types, pieces, mergeable, pre, -1, eot, path);
    }

    // ---------------------------------------------------------------- GPT-2 files

    /// <summary>Loads GPT-2 style <c>encoder.json</c> (mapped token text → id) and <c>vocab.bpe</c> (merges in rank order).</summary>
    /// <exception cref="TokenizerFormatException">A file is malformed.</exception>
    public static BpeTokenizer FromGpt2Files(string encoderJson, string vocabBpe, TokenizerLoadOptions? options = null)
    {
        if (!File.Exists(vocabBpe))
        {
            throw new FileNotFoundException($"{encoderJson}: the merges file vocab.bpe is expected beside it: {vocabBpe}", vocabBpe);
        }
        Dictionary<string, int> encoder;
        try
        {
            using FileStream fs = File.OpenRead(encoderJson);
            encoder = JsonSerializer.Deserialize<Dictionary<string, int>>(fs)
                ?? throw new TokenizerFormatException(encoderJson, "expected a JSON object of token → id");
        }
        catch (JsonException e)
        {
            throw new TokenizerFormatException(encoderJson, $"invalid JSON: {e.Message}", e);
        }
        List<(string, string)> merges = ReadMerges(vocabBpe);
        var specials = new Dictionary<string, int>(options?.SpecialTokens ?? new Dictionary<string, int>());
        string pre = options?.PreTokenizer ?? "gpt2";
        bool ignoreMerges = options?.IgnoreMerges ?? pre is "llama3" or "llama-bpe" or "llama-v3";
        return BuildFromVocab($"bpe {Path.GetFileName(encoderJson)}", encoder, merges, specials, PreTokenizer.ForName(pre), ignoreMerges,
            options?.BosToken, addBos: options?.BosToken is not null, encoderJson);
    }

    /// <summary>Loads a GPT-2 <c>vocab.bpe</c> alone: ids are the 256 bytes in GPT-2 order, then one per merge, then <c>&lt;|endoftext|&gt;</c>.</summary>
    /// <exception cref="TokenizerFormatException">The file is malformed.</exception>
    public static BpeTokenizer FromGpt2Merges(string vocabBpe, TokenizerLoadOptions? options = null)
    {
        List<(string A, string B)> merges = ReadMerges(vocabBpe);
        var encoder = new Dictionary<string, int>();
        foreach (byte b in ByteLevelMap.RankOrder)
        {
            encoder[ByteLevelMap.ByteToChar[b].ToString()] = encoder.Count;
        }
        foreach ((string a, string b) in merges)
        {
            if (!encoder.TryAdd(a + b, encoder.Count))
            {
                throw new TokenizerFormatException(vocabBpe, $"merge '{a} {b}' produces a token that already exists");
            }
        }
        var specials = new Dictionary<string, int> { ["<|endoftext|>"] = encoder.Count };
        foreach (var kv in options?.SpecialTokens ?? new Dictionary<string, int>())
        {
            specials[kv.Key] = kv.Value;
        }
        string pre = options?.PreTokenizer ?? "gpt2";
        return BuildFromVocab($"bpe {Path.GetFileName(vocabBpe)}", encoder, merges, specials, PreTokenizer.ForName(pre),
            options?.IgnoreMerges ?? false, options?.BosToken, options?.BosToken is not null, vocabBpe);
    }

    private static List<(string, string)> ReadMerges(string path)
    {
        var merges = new List<(string, string)>();
        int lineNo = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNo++;
            if (line.Length == 0 || (lineNo == 1 && line.StartsWith("#version", StringComparison.Ordinal)))
            {
                continue;
            }
            int sp = line.IndexOf(' ', 1);
            if (sp < 0 || sp == line.Length - 1)
            {
                throw new TokenizerFormatException($"{path}:{lineNo}", $"expected a merge 'left right', got '{line}'");
            }
            merges.Add((line[..sp], line[(sp + 1)..]));
        }
        return merges;
    }

    /// <summary>Byte-level BPE from a mapped-text vocabulary and merges given as text pairs.</summary>
    private static BpeTokenizer BuildFromVocab(string name, Dictionary<string, int> encoder, List<(string, string)> merges,
        Dictionary<string, int> specials, PreTokenizer pre, bool ignoreMerges, string? bosText, bool addBos, string source,
        ISet<string>? userDefined = null)
    {
        int size = Math.Max(encoder.Count == 0 ? 0 : encoder.Values.Max() + 1, specials.Count == 0 ? 0 : specials.Values.Max() + 1);
        var texts = new string[size];
        var types = new TokenType[size];
        var pieces = new byte[size][];
        var mergeable = new bool[size];
        Array.Fill(texts, "");
        Array.Fill(types, TokenType.Unused);
        Array.Fill(pieces, Array.Empty<byte>());
        foreach ((string text, int id) in encoder)
        {
            if (id < 0)
            {
                throw new TokenizerFormatException(source, $"token '{text}' has negative id {id}");
            }
            texts[id] = text;
            bool mapped = ByteLevelMap.TryDecode(text, out pieces[id]);
            bool control = text is "<|endoftext|>";
            types[id] = control ? TokenType.Control : mapped ? TokenType.Normal : TokenType.UserDefined;
            mergeable[id] = mapped && !control;
        }
        foreach ((string text, int id) in specials)
        {
            if (id < 0)
            {
                throw new TokenizerFormatException(source, $"special token '{text}' has negative id {id}");
            }
            texts[id] = text;
            types[id] = userDefined?.Contains(text) == true ? TokenType.UserDefined : TokenType.Control;
            pieces[id] = Encoding.UTF8.GetBytes(text);
            mergeable[id] = false;
        }
        var ids = new Dictionary<string, int>(encoder);
        IEnumerable<(int, int)> MergeIds()
        {
            foreach ((string a, string b) in merges)
            {
                if (ids.TryGetValue(a, out int l) && ids.TryGetValue(b, out int r))
                {
                    yield return (l, r);
                }
            }
        }
        int bos = bosText is not null && specials.TryGetValue(bosText, out int bid) ? bid : -1;
        int eos = specials.TryGetValue("<|endoftext|>", out int e1) ? e1 : specials.TryGetValue("<|end_of_text|>", out int e2) ? e2 : -1;
        return BpeBuilder.FromMerges(name, texts, types, pieces, mergeable, MergeIds(), pre, ignoreMerges, bos, eos, addBos && bos >= 0, false, source);
    }
}
