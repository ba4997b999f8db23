using Weft.Core;

namespace Weft.Models.Llama;

/// <summary>Which compute backend a context uses.</summary>
public enum BackendChoice
{
    /// <summary>A GPU through Vulkan when one is present (never a software device), else the CPU.</summary>
    Auto,
    /// <summary>The CPU kernels only.</summary>
    Cpu,
    /// <summary>Vulkan (any device, lavapipe included); fails when none is available.</summary>
    Vulkan,
}

/// <summary>Settings of an inference context.</summary>
public sealed record ContextParams
{
    /// <summary>Context length in tokens; 0 means the model's training context capped at 4096.</summary>
    public int ContextSize { get; init; }
    /// <summary>Tokens evaluated per graph while processing a prompt.</summary>
    public int BatchSize { get; init; } = 512;
    /// <summary>KV cache element type: F16 (default), F32 or Q8_0.</summary>
    public DType KvType { get; init; } = DType.F16;
    /// <summary>CPU threads; 0 means all cores.</summary>
    public int Threads { get; init; }
    /// <summary>Backend selection.</summary>
    public BackendChoice Backend { get; init; } = BackendChoice.Auto;
    /// <summary>
    /// Sequences the context can hold at once (1 .. 64). With 1 (the default) the cache keeps position p in row p and
    /// attention is causal by position. With more, cache rows carry a position and a set of sequence ids,
    /// <see cref="LlamaContext.Decode(LlamaBatch)"/> mixes tokens of several sequences in one batch, and attention goes
    /// through a mask (llama.cpp's <c>n_seq_max</c> with a unified KV cache).
    /// </summary>
    public int MaxSequences { get; init; } = 1;

    /// <summary>Throws <see cref="ArgumentException"/> naming an invalid setting.</summary>
    public void Validate()
    {
        if (ContextSize < 0) throw new ArgumentException($"Context size must be 0 (model default) or positive, not {ContextSize}.");
        if (BatchSize <= 0) throw new ArgumentException($"Batch size must be positive, not {BatchSize}.");
        if (Threads < 0) throw new ArgumentException($"Thread count must be 0 (all cores) or positive, not {Threads}.");
        if (KvType is not (DType.F16 or DType.F32 or DType.Q8_0)) throw new ArgumentException($"KV cache type must be f16, f32 or q8_0, not {TypeTraits.Of(KvType).Name}.");
        if (MaxSequences is < 1 or > KvCells.MaxSequences) throw new ArgumentException($"MaxSequences must be 1 .. {KvCells.MaxSequences}, not {MaxSequences}.");
    }
}

/// <summary>The context is full: the batch would need more positions than the KV cache holds.</summary>
public sealed class ContextFullException : Exception
{
    /// <summary>A single-sequence context is full.</summary>
    /// <param name="needed">Positions the operation needed.</param>
    /// <param name="size">Positions the context holds.</param>
    public ContextFullException(int needed, int size)
        : this(needed, size, $"The context holds {size} tokens but {needed} are needed; use a larger --ctx, a shorter prompt, or enable context shifting.")
    {
    }

    /// <summary>The context is full, with a message saying why and what to do.</summary>
    /// <param name="needed">Positions the operation needed.</param>
    /// <param name="size">Positions the context holds.</param>
    /// <param name="message">The message.</param>
    public ContextFullException(int needed, int size, string message)
        : base(message)
    {
        Needed = needed;
        Size = size;
    }

    /// <summary>Positions the operation needed.</summary>
    public int Needed { get; }
    /// <summary>Positions the context holds.</summary>
    public int Size { get; }
}
