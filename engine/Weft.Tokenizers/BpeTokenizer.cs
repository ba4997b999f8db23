using Weft.Tokenizers.Models;
using Weft.Tokenizers.PreTokenization;
using Weft.Tokenizers.Unicode;

namespace Weft.Tokenizers;

/// <summary>
/// Byte-level BPE (GPT-2, tiktoken, Llama 3, Qwen2, DeepSeek, Falcon, StarCoder...): the text is split by a
/// <see cref="PreTokenization.PreTokenizer"/>, each piece's UTF-8 bytes are merged by rank.
/// </summary>
public sealed class BpeTokenizer : Tokenizer
{
    private readonly BytePairModel _model;

    internal BpeTokenizer(string name, string[] texts, TokenType[] types, byte[][] pieces, BytePairModel model, PreTokenizer pre,
        int bosId, int eosId, bool addBos, bool addEos)
        : base(name, texts, types, pieces, bosId, eosId, addBos, addEos)
    {
        _model = model;
        PreTokenizer = pre;
    }

    /// <summary>The pre-tokenizer that splits text into words.</summary>
    public PreTokenizer PreTokenizer { get; }

    /// <summary>Number of merge rules.</summary>
    public int MergeCount => _model.MergeCount;

    [ThreadStatic] private static int[]? t_cps;
    [ThreadStatic] private static CodepointFlags[]? t_flags;
    [ThreadStatic] private static byte[]? t_bytes;
    [ThreadStatic] private static List<int>? t_lengths;

    /// <inheritdoc />
    protected override void EncodeText(ReadOnlySpan<char> text, bool afterSpecial, List<int> output)
    {
        int[] cps = t_cps ?? new int[256];
        int n = ToCodepoints(text, ref cps);
        t_cps = cps;
        CodepointFlags[] flags = t_flags is { } f && f.Length >= n ? f : new CodepointFlags[Math.Max(n, 256)];
        t_flags = flags;
        for (int i = 0; i < n; i++)
        {
            flags[i] = CodepointInfo.Get(cps[i]);
        }
        List<int> lengths = t_lengths ??= new List<int>();
        lengths.Clear();
        PreTokenizer.Split(cps.AsSpan(0, n), flags.AsSpan(0, n), lengths);
        byte[] bytes = t_bytes ?? new byte[256];
        int offset = 0;
        foreach (int len in lengths)
        {
            int m = AppendUtf8(cps.AsSpan(offset, len), ref bytes, 0);
            _model.EncodeWord(bytes.AsSpan(0, m), output);
            offset += len;
        }
        t_bytes = bytes;
    }
}
