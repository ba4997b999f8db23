namespace Weft.Models.Sampling;

/// <summary>
/// Sampling settings, with llama.cpp's defaults and meaning. Validate with <see cref="Validate"/> before use.
/// </summary>
public sealed record SamplingParams
{
    /// <summary>Temperature; 0 or less means greedy (argmax after penalties and bias).</summary>
    public float Temperature { get; init; } = 0.8f;
    /// <summary>Keep the K most likely tokens; 0 or less disables.</summary>
    public int TopK { get; init; } = 40;
    /// <summary>Nucleus: keep the smallest set whose probability reaches P; 1 disables.</summary>
    public float TopP { get; init; } = 0.95f;
    /// <summary>Keep tokens whose probability is at least P times the top one; 0 disables.</summary>
    public float MinP { get; init; } = 0.05f;
    /// <summary>Locally typical sampling mass; 1 disables.</summary>
    public float TypicalP { get; init; } = 1.0f;
    /// <summary>Repetition penalty over the last <see cref="PenaltyLastN"/> tokens; 1 disables.</summary>
    public float RepeatPenalty { get; init; } = 1.0f;
    /// <summary>Frequency penalty (subtracted per occurrence); 0 disables.</summary>
    public float FrequencyPenalty { get; init; }
    /// <summary>Presence penalty (subtracted once per present token); 0 disables.</summary>
    public float PresencePenalty { get; init; }
    /// <summary>Window of recent tokens the penalties look at; 0 disables penalties, -1 means the whole context.</summary>
    public int PenaltyLastN { get; init; } = 64;
    /// <summary>RNG seed; the same seed and inputs give the same tokens.</summary>
    public uint Seed { get; init; } = 0xFFFFFFFF;
    /// <summary>Added to the logits of given tokens before anything else (-inf bans a token).</summary>
    public IReadOnlyDictionary<int, float>? LogitBias { get; init; }
    /// <summary>Minimum tokens any truncation step keeps.</summary>
    public int MinKeep { get; init; } = 1;

    /// <summary>Greedy decoding: temperature 0.</summary>
    public static SamplingParams Greedy { get; } = new() { Temperature = 0f };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate(int vocabSize)
    {
        static void Fail(string field, object value, string rule) =>
            throw new ArgumentException($"Invalid sampling setting {field} = {value}: {rule}.");
        if (!float.IsFinite(Temperature)) Fail("temperature", Temperature, "must be a finite number");
        if (!(TopP > 0f && TopP <= 1f)) Fail("top_p", TopP, "must be in (0, 1]");
        if (!(MinP >= 0f && MinP <= 1f)) Fail("min_p", MinP, "must be in [0, 1]");
        if (!(TypicalP > 0f && TypicalP <= 1f)) Fail("typical_p", TypicalP, "must be in (0, 1]");
        if (!(RepeatPenalty > 0f) || !float.IsFinite(RepeatPenalty)) Fail("repeat_penalty", RepeatPenalty, "must be a positive number");
        if (!float.IsFinite(FrequencyPenalty)) Fail("frequency_penalty", FrequencyPenalty, "must be finite");
        if (!float.IsFinite(PresencePenalty)) Fail("presence_penalty", PresencePenalty, "must be finite");
        if (PenaltyLastN < -1) Fail("penalty_last_n", PenaltyLastN, "must be -1, 0 or positive");
        if (MinKeep < 1) Fail("min_keep", MinKeep, "must be at least 1");
        if (LogitBias is not null)
        {
            foreach (int id in LogitBias.Keys)
            {
                if ((uint)id >= (uint)vocabSize) Fail("logit_bias", id, $"token id must be in 0..{vocabSize - 1}");
            }
        }
    }
}
