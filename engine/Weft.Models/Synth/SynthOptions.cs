using Weft.Core;

namespace Weft.Models.Synth;

/// <summary>Options of <see cref="SyntheticLlama"/>.</summary>
public sealed record SynthOptions
{
    /// <summary>Model shape.</summary>
    public required SynthPreset Preset { get; init; }
    /// <summary>Seed of the weights: the same seed gives a byte-identical file.</summary>
    public ulong Seed { get; init; }
    /// <summary>Standard deviation of the weights (norm weights are always 1).</summary>
    public float Scale { get; init; } = 0.02f;
    /// <summary>Type of the 2-D weight matrices (norms are always F32).</summary>
    public DType WeightType { get; init; } = DType.F32;
    /// <summary>Type used for a matrix whose rows are not a whole number of <see cref="WeightType"/> blocks.</summary>
    public DType FallbackType { get; init; } = DType.F16;
    /// <summary>Encoder for types other than F32, F16 and BF16 (e.g. a quantizer); null when not needed.</summary>
    public RowEncoder? Encoder { get; init; }
}
