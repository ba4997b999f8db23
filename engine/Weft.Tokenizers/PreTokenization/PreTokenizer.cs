using Weft.Tokenizers.Unicode;

namespace Weft.Tokenizers.PreTokenization;

/// <summary>
/// Splits text (as code points) into the pieces that byte-level BPE encodes one at a time. Every pattern family is a
/// hand-written scanner that reproduces the reference regex (Rust regex for tiktoken, llama.cpp's unicode.cpp and its
/// std::regex fall-backs for GGUF vocabularies) in linear time, without backtracking.
/// </summary>
public abstract class PreTokenizer
{
    /// <summary>The name (a <c>tokenizer.ggml.pre</c> value or a tiktoken encoding name).</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Appends to <paramref name="lengths"/> the lengths, in code points, of consecutive pieces that cover
    /// <paramref name="cps"/> exactly. <paramref name="flags"/> holds <see cref="CodepointInfo.Get"/> of each code point.
    /// </summary>
    public abstract void Split(ReadOnlySpan<int> cps, ReadOnlySpan<CodepointFlags> flags, List<int> lengths);

    /// <summary>Names <see cref="ForName"/> understands.</summary>
    public static IReadOnlyList<string> KnownNames { get; } =
    [
        "gpt2", "gpt-2", "mpt", "olmo", "jais", "trillion", "granite-docling", "default", "llama3", "llama-bpe", "llama-v3", "dbrx", "smaug-bpe",
        "chatglm-bpe", "falcon3", "qwen2", "stablelm2", "hunyuan", "grok-2", "deepseek-llm", "deepseek-coder", "falcon", "starcoder",
        "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "cl100k_base", "o200k_base", "p50k_base", "p50k_edit", "r50k_base", "gpt-4o",
    ];

    /// <summary>
    /// The pre-tokenizer for a llama.cpp <c>tokenizer.ggml.pre</c> name or a tiktoken encoding name. An absent name
    /// (null or empty) is llama.cpp's "default".
    /// </summary>
    /// <exception cref="NotSupportedException">The name is not one of <see cref="KnownNames"/>.</exception>
    public static PreTokenizer ForName(string? name)
    {
        string n = string.IsNullOrEmpty(name) ? "default" : name;
        return n switch
        {
            "gpt2" or "gpt-2" or "mpt" or "olmo" or "jais" or "trillion" or "granite-docling" or "p50k_base" or "p50k_edit" or "r50k_base"
                => new Pipeline(n, new Gpt2Step()),
            "llama3" or "llama-bpe" or "llama-v3" or "dbrx" or "smaug-bpe" or "chatglm-bpe" or "falcon3"
                => new Pipeline(n, new Llama3Step(maxDigits: 3, tiktoken: false)),
            "cl100k_base" => new Pipeline(n, new Llama3Step(maxDigits: 3, tiktoken: true)),
            "o200k_base" or "gpt-4o" => new Pipeline(n, new O200kStep()),
            "qwen2" or "stablelm2" or "hunyuan" or "grok-2" => new Pipeline(n, new Llama3Step(maxDigits: 1, tiktoken: false)),
            "deepseek-llm" => new Pipeline(n,
                ClassRunStep.Newline,
                new ClassRunStep(CharClass.FromRanges(DeepseekLetters), leadingSpace: true, 1, int.MaxValue),
                new ClassRunStep(CharClass.FromRanges("!-/:-~！-／：-～‘-‟　-。"), leadingSpace: true, 1, int.MaxValue),
                new TrailingWhitespaceStep(),
                new ClassRunStep(CharClass.FromRanges(Cjk), leadingSpace: false, 1, int.MaxValue),
                new ClassRunStep(CharClass.Flags(CodepointFlags.Number), leadingSpace: false, 1, int.MaxValue)),
            "deepseek-coder" => new Pipeline(n,
                ClassRunStep.Newline,
                new ClassRunStep(CharClass.Flags(CodepointFlags.Letter), leadingSpace: true, 1, int.MaxValue),
                new ClassRunStep(CharClass.Flags(CodepointFlags.Punctuation), leadingSpace: true, 1, int.MaxValue),
                new ClassRunStep(CharClass.FromRanges(Cjk), leadingSpace: false, 1, int.MaxValue),
                new ClassRunStep(CharClass.Flags(CodepointFlags.Number), leadingSpace: false, 1, 1)),
            "falcon" => new Pipeline(n,
                new ClassRunStep(CharClass.FlagsOrChars(CodepointFlags.Punctuation, "$+<=>^~|`"), leadingSpace: false, 1, int.MaxValue),
                new Gpt2Step(),
                new ClassRunStep(CharClass.FromRanges("0-9"), leadingSpace: false, 3, 3)),
            "starcoder" or "refact" or "command-r" or "smollm" or "codeshell" or "exaone" or "minerva-7b" => new Pipeline(n,
                new ClassRunStep(CharClass.Flags(CodepointFlags.Number), leadingSpace: false, 1, 1),
                new Gpt2Step()),
            "default" => new Pipeline(n,
                new ClassRunStep(CharClass.FlagsOrChars(CodepointFlags.Punctuation, "$+<=>^~|"), leadingSpace: false, 1, int.MaxValue),
                new Gpt2Step(),
                new ClassRunStep(CharClass.Flags(CodepointFlags.Number), leadingSpace: false, 1, int.MaxValue),
                new ClassRunStep(CharClass.FromRanges("0-9"), leadingSpace: false, 3, 3)),
            _ => throw new NotSupportedException(
                $"pre-tokenizer '{name}' is not supported; known: {string.Join(", ", KnownNames)}"),
        };
    }

    // DeepSeek LLM's letter class, from its tokenizer.json pre-tokenizer (as llama.cpp uses it).
    private const string DeepseekLetters =
        "A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃";

    private const string Cjk = "一-龥ࠀ-一가-퟿";

    /// <summary>A sequence of split steps: each step splits every piece the previous one produced.</summary>
    private sealed class Pipeline(string name, params SplitStep[] steps) : PreTokenizer
    {
        public override string Name => name;

        public override void Split(ReadOnlySpan<int> cps, ReadOnlySpan<CodepointFlags> flags, List<int> lengths)
        {
            if (cps.IsEmpty)
            {
                return;
            }
            if (steps.Length == 1)
            {
                steps[0].Split(cps, flags, lengths);
                return;
            }
            var current = new List<int> { cps.Length };
            var next = new List<int>();
            for (int s = 0; s < steps.Length; s++)
            {
                bool last = s == steps.Length - 1;
                List<int> target = last ? lengths : next;
                int offset = 0;
                foreach (int len in current)
                {
                    steps[s].Split(cps.Slice(offset, len), flags.Slice(offset, len), target);
                    offset += len;
                }
                if (!last)
                {
                    (current, next) = (next, current);
                    next.Clear();
                }
            }
        }
    }
}
