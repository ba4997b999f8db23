namespace Weft.Models.Quantization;

/// <summary>
/// llama.cpp's <c>llama_ftype</c> values, written to <c>general.file_type</c>: the "mostly" type of a model file.
/// Only the values Weft's quantizer produces are listed.
/// </summary>
public enum LlamaFileType
{
    /// <summary>All tensors F32.</summary>
    AllF32 = 0,
    /// <summary>Weights F16, norms F32.</summary>
    MostlyF16 = 1,
    /// <summary>Weights Q4_0.</summary>
    MostlyQ4_0 = 2,
    /// <summary>Weights Q4_1.</summary>
    MostlyQ4_1 = 3,
    /// <summary>Weights Q8_0.</summary>
    MostlyQ8_0 = 7,
    /// <summary>Weights Q5_0.</summary>
    MostlyQ5_0 = 8,
    /// <summary>Weights Q5_1.</summary>
    MostlyQ5_1 = 9,
    /// <summary>Q4_K, small mix.</summary>
    MostlyQ4_K_S = 14,
    /// <summary>Q4_K, medium mix (Q6_K on half of attn_v/ffn_down).</summary>
    MostlyQ4_K_M = 15,
    /// <summary>Q5_K, small mix.</summary>
    MostlyQ5_K_S = 16,
    /// <summary>Q5_K, medium mix.</summary>
    MostlyQ5_K_M = 17,
    /// <summary>Weights Q6_K.</summary>
    MostlyQ6_K = 18,
    /// <summary>Weights BF16, norms F32.</summary>
    MostlyBF16 = 32,
}
