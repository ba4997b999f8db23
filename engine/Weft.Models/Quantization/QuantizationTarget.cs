using Weft.Core;

namespace Weft.Models.Quantization;

/// <summary>A quantization target as named on the command line: the file type and its default weight type.</summary>
/// <param name="Name">Lower-case name (<c>q4_k_m</c>).</param>
/// <param name="FileType">The <c>general.file_type</c> written.</param>
/// <param name="DefaultType">The type most weight matrices get; the mix rules change some tensors.</param>
/// <param name="Description">One line for help text.</param>
public sealed record QuantizationTarget(string Name, LlamaFileType FileType, DType DefaultType, string Description)
{
    /// <summary>Every target, in the order help lists them. <c>q4_k</c>/<c>q5_k</c> are aliases of the _m mixes, as in llama-quantize.</summary>
    public static IReadOnlyList<QuantizationTarget> All { get; } =
    [
        new("f32", LlamaFileType.AllF32, DType.F32, "32-bit float (dequantizes nothing; converts f16/bf16 weights up)"),
        new("f16", LlamaFileType.MostlyF16, DType.F16, "16-bit IEEE half"),
        new("bf16", LlamaFileType.MostlyBF16, DType.BF16, "bfloat16"),
        new("q8_0", LlamaFileType.MostlyQ8_0, DType.Q8_0, "8.5 bits per weight"),
        new("q4_0", LlamaFileType.MostlyQ4_0, DType.Q4_0, "4.5 bpw, output.weight Q6_K"),
        new("q4_1", LlamaFileType.MostlyQ4_1, DType.Q4_1, "5.0 bpw, output.weight Q6_K"),
        new("q5_0", LlamaFileType.MostlyQ5_0, DType.Q5_0, "5.5 bpw, output.weight Q6_K"),
        new("q5_1", LlamaFileType.MostlyQ5_1, DType.Q5_1, "6.0 bpw, output.weight Q6_K"),
        new("q4_k_s", LlamaFileType.MostlyQ4_K_S, DType.Q4_K, "Q4_K, Q5_K on the first attn_v and ffn_down layers"),
        new("q4_k_m", LlamaFileType.MostlyQ4_K_M, DType.Q4_K, "Q4_K, Q6_K on half of attn_v and ffn_down"),
        new("q4_k", LlamaFileType.MostlyQ4_K_M, DType.Q4_K, "alias of q4_k_m"),
        new("q5_k_s", LlamaFileType.MostlyQ5_K_S, DType.Q5_K, "Q5_K"),
        new("q5_k_m", LlamaFileType.MostlyQ5_K_M, DType.Q5_K, "Q5_K, Q6_K on half of attn_v and ffn_down"),
        new("q5_k", LlamaFileType.MostlyQ5_K_M, DType.Q5_K, "alias of q5_k_m"),
        new("q6_k", LlamaFileType.MostlyQ6_K, DType.Q6_K, "6.56 bpw"),
    ];

    /// <summary>Names accepted by <see cref="Parse"/>, comma separated.</summary>
    public static string ValidNames => string.Join(", ", All.Select(t => t.Name));

    /// <summary>Finds a target by name (case-insensitive).</summary>
    public static bool TryParse(string name, out QuantizationTarget target)
    {
        target = All.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase))!;
        return target is not null;
    }

    /// <summary>Finds a target by name (case-insensitive).</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the valid ones.</exception>
    public static QuantizationTarget Parse(string name) =>
        TryParse(name, out QuantizationTarget t)
            ? t
            : throw new ArgumentException($"Unknown quantization type '{name}'. Valid types: {ValidNames}.", nameof(name));

    /// <summary>True for targets whose default type is block-quantized (the mix rules apply only to those).</summary>
    public bool IsQuantized => TypeTraits.Of(DefaultType).IsQuantized;
}
