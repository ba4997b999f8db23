using System.Text;
using System.Text.Json;
using Weft.Tokenizers.Loading;
using Weft.Tokenizers.PreTokenization;

namespace Weft.Tokenizers;

public static partial class TokenizerLoader
{
    // Split patterns of byte-level pre-tokenizers as they appear in tokenizer.json files, mapped to our scanners.
    private static readonly (string Pattern, string Name)[] s_knownPatterns =
    [
        (@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", "gpt2"),
        (@"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+", "llama3"),
        (@"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+", "qwen2"),
        (@"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+", "o200k_base"),
    ];

    /// <summary>
    /// Loads a Hugging Face <c>tokenizer.json</c>: WordPiece (BertNormalizer, BertPreTokenizer, [CLS]/[SEP] post-processing)
    /// or byte-level BPE (ByteLevel pre-tokenizer, optionally after a Split with a known pattern; ignore_merges;
    /// a TemplateProcessing post-processor that adds BOS), with its added tokens.
    /// </summary>
    /// <exception cref="TokenizerFormatException">The JSON is malformed or lacks a required field.</exception>
    /// <exception cref="NotSupportedException">A model, normalizer or pre-tokenizer this loader does not implement.</exception>
    public static Tokenizer FromHuggingFace(string path, TokenizerLoadOptions? options = null)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new TokenizerFormatException(path, $"invalid JSON: {e.Message}", e);
        }
        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (!root.TryGetProperty("model", out JsonElement model) || model.ValueKind != JsonValueKind.Object)
            {
                throw new TokenizerFormatException(path, "no \"model\" object");
            }
            string type = model.TryGetProperty("type", out JsonElement t) ? t.GetString() ?? "" : "";
            if (type.Length == 0)
            {
                type = model.TryGetProperty("merges", out _) ? "BPE" : model.TryGetProperty("continuing_subword_prefix", out _) ? "WordPiece" : "";
            }
            if (!model.TryGetProperty("vocab", out JsonElement vocabEl) || vocabEl.ValueKind != JsonValueKind.Object)
            {
                throw new TokenizerFormatException(path, "model.vocab must be an object of token → id");
            }
            var vocab = new Dictionary<string, int>();
            foreach (JsonProperty p in vocabEl.EnumerateObject())
            {
                vocab[p.Name] = p.Value.GetInt32();
            }
            var added = new List<(string Content, int Id, bool Special)>();
            if (root.TryGetProperty("added_tokens", out JsonElement addedEl) && addedEl.ValueKind == JsonValueKind.Array)
            {
                foreach (JsonElement a in addedEl.EnumerateArray())
                {
                    added.Add((a.GetProperty("content").GetString() ?? "", a.GetProperty("id").GetInt32(),
                        a.TryGetProperty("special", out JsonElement sp) && sp.ValueKind == JsonValueKind.True));
                }
            }
            return type switch
            {
                "WordPiece" => WordPieceFromJson(path, root, model, vocab, added),
                "BPE" => BpeFromJson(path, root, model, vocab, added, options),
                _ => throw new NotSupportedException($"{path}: tokenizer.json model type '{type}' is not supported (WordPiece, BPE)"),
            };
        }
    }

    private static Tokenizer WordPieceFromJson(string path, JsonElement root, JsonElement model, Dictionary<string, int> vocab,
        List<(string Content, int Id, bool Special)> added)
    {
        string prefix = model.TryGetProperty("continuing_subword_prefix", out JsonElement cp) ? cp.GetString() ?? "##" : "##";
        string unkText = model.TryGetProperty("unk_token", out JsonElement u) ? u.GetString() ?? "[UNK]" : "[UNK]";
        int maxChars = model.TryGetProperty("max_input_chars_per_word", out JsonElement mc) && mc.ValueKind == JsonValueKind.Number ? mc.GetInt32() : 100;
        bool lowercase = true;
        bool? strip = null;
        if (root.TryGetProperty("normalizer", out JsonElement norm) && norm.ValueKind == JsonValueKind.Object)
        {
            string nt = norm.TryGetProperty("type", out JsonElement ntEl) ? ntEl.GetString() ?? "" : "";
            if (nt != "BertNormalizer")
            {
                throw new NotSupportedException($"{path}: WordPiece normalizer '{nt}' is not supported (BertNormalizer)");
            }
            lowercase = !norm.TryGetProperty("lowercase", out JsonElement lc) || lc.ValueKind != JsonValueKind.False;
            if (norm.TryGetProperty("strip_accents", out JsonElement sa) && sa.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                strip = sa.ValueKind == JsonValueKind.True;
            }
        }
        if (lowercase != (strip ?? lowercase))
        {
            throw new NotSupportedException($"{path}: BertNormalizer with lowercase={lowercase} and strip_accents={strip} is not supported");
        }
        int size = Math.Max(vocab.Values.DefaultIfEmpty(-1).Max(), added.Select(a => a.Id).DefaultIfEmpty(-1).Max()) + 1;
        var texts = new string[size];
        var types = new TokenType[size];
        var pieces = new byte[size][];
        Array.Fill(texts, "");
        Array.Fill(types, TokenType.Unused);
        Array.Fill(pieces, Array.Empty<byte>());
        var starts = new Dictionary<string, int>();
        var conts = new Dictionary<string, int>();
        foreach ((string text, int id) in vocab)
        {
            texts[id] = text;
            types[id] = TokenType.Normal;
            if (text.StartsWith(prefix, StringComparison.Ordinal) && text.Length > prefix.Length)
            {
                conts.TryAdd(text[prefix.Length..], id);
                pieces[id] = Encoding.UTF8.GetBytes(text[prefix.Length..]);
            }
            else
            {
                starts.TryAdd(text, id);
                pieces[id] = Encoding.UTF8.GetBytes(" " + text);
            }
        }
        foreach ((string content, int id, bool special) in added)
        {
            texts[id] = content;
            types[id] = special ? TokenType.Control : TokenType.UserDefined;
            pieces[id] = Encoding.UTF8.GetBytes(special ? content : " " + content);
        }
        int Find(string text) => vocab.TryGetValue(text, out int id) ? id : added.Where(a => a.Content == text).Select(a => a.Id).DefaultIfEmpty(-1).First();
        int unk = Find(unkText);
        if (unk < 0)
        {
            throw new TokenizerFormatException(path, $"unk_token '{unkText}' is not in the vocabulary");
        }
        int cls = Find("[CLS]"), sep = Find("[SEP]");
        bool addSpecial = root.TryGetProperty("post_processor", out JsonElement pp) && pp.ValueKind == JsonValueKind.Object;
        return new WordPieceTokenizer($"wordpiece {Path.GetFileName(path)}", texts, types, pieces, starts, conts, unk, cls, sep, addSpecial,
            lowercase ? WordPieceNormalization.HuggingFace : WordPieceNormalization.None, maxChars);
    }

    private static Tokenizer BpeFromJson(string path, JsonElement root, JsonElement model, Dictionary<string, int> vocab,
        List<(string Content, int Id, bool Special)> added, TokenizerLoadOptions? options)
    {
        if (model.TryGetProperty("byte_fallback", out JsonElement bf) && bf.ValueKind == JsonValueKind.True)
        {
            throw new NotSupportedException($"{path}: SentencePiece-style BPE (byte_fallback) from tokenizer.json is not supported; load the model's GGUF instead");
        }
        string? preName = options?.PreTokenizer;
        if (preName is null && root.TryGetProperty("pre_tokenizer", out JsonElement pre) && pre.ValueKind == JsonValueKind.Object)
        {
            preName = PreNameFromJson(path, pre);
        }
        preName ??= "gpt2";
        bool ignoreMerges = options?.IgnoreMerges ?? (model.TryGetProperty("ignore_merges", out JsonElement im) && im.ValueKind == JsonValueKind.True);
        var merges = new List<(string, string)>();
        if (model.TryGetProperty("merges", out JsonElement mergesEl))
        {
            int m = 0;
            foreach (JsonElement e in mergesEl.EnumerateArray())
            {
                if (e.ValueKind == JsonValueKind.String)
                {
                    string s = e.GetString()!;
                    int sp = s.IndexOf(' ', 1);
                    if (sp < 0)
                    {
                        throw new TokenizerFormatException($"{path}: model.merges[{m}]", $"expected 'left right', got '{s}'");
                    }
                    merges.Add((s[..sp], s[(sp + 1)..]));
                }
                else if (e.ValueKind == JsonValueKind.Array && e.GetArrayLength() == 2)
                {
                    merges.Add((e[0].GetString()!, e[1].GetString()!));
                }
                else
                {
                    throw new TokenizerFormatException($"{path}: model.merges[{m}]", "expected a string or a pair of strings");
                }
                m++;
            }
        }
        var specials = new Dictionary<string, int>();
        foreach ((string content, int id, bool _) in added)
        {
            specials[content] = id;
            vocab.Remove(content);
        }
        string? bos = options?.BosToken ?? BosFromPostProcessor(root);
        // Non-special added tokens are always split out of the text (Hugging Face matches them before the model runs).
        var userDefined = added.Where(a => !a.Special).Select(a => a.Content).ToHashSet();
        return BuildFromVocab($"bpe {Path.GetFileName(path)}", vocab, merges, specials, PreTokenizer.ForName(preName), ignoreMerges, bos,
            bos is not null, path, userDefined);
    }

    private static string PreNameFromJson(string path, JsonElement pre)
    {
        string type = pre.TryGetProperty("type", out JsonElement t) ? t.GetString() ?? "" : "";
        switch (type)
        {
            case "ByteLevel":
                return "gpt2";
            case "Sequence":
                foreach (JsonElement p in pre.GetProperty("pretokenizers").EnumerateArray())
                {
                    string pt = p.TryGetProperty("type", out JsonElement ptEl) ? ptEl.GetString() ?? "" : "";
                    if (pt == "Split" && p.TryGetProperty("pattern", out JsonElement pat) && pat.TryGetProperty("Regex", out JsonElement re))
                    {
                        string regex = re.GetString() ?? "";
                        foreach ((string known, string name) in s_knownPatterns)
                        {
                            if (regex == known)
                            {
                                return name;
                            }
                        }
                        throw new NotSupportedException($"{path}: pre-tokenizer regex is not one of the known families; pass a pre-tokenizer name. Regex: {regex}");
                    }
                }
                return "gpt2";
            default:
                throw new NotSupportedException($"{path}: pre_tokenizer type '{type}' is not supported for BPE (ByteLevel, Sequence[Split, ByteLevel])");
        }
    }

    private static string? BosFromPostProcessor(JsonElement root)
    {
        if (!root.TryGetProperty("post_processor", out JsonElement pp) || pp.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        JsonElement template = pp;
        if (pp.TryGetProperty("type", out JsonElement t) && t.GetString() == "Sequence" && pp.TryGetProperty("processors", out JsonElement procs))
        {
            foreach (JsonElement p in procs.EnumerateArray())
            {
                if (p.TryGetProperty("type", out JsonElement pt) && pt.GetString() == "TemplateProcessing")
                {
                    template = p;
                }
            }
        }
        if (template.TryGetProperty("single", out JsonElement single) && single.ValueKind == JsonValueKind.Array && single.GetArrayLength() > 0
            && single[0].TryGetProperty("SpecialToken", out JsonElement st))
        {
            return st.GetProperty("id").GetString();
        }
        return null;
    }
}
