using Weft.Core;

namespace Weft.Cpu;

/// <summary>
/// Per-thread view of one node's evaluation: this thread's index <see cref="Ith"/> of <see cref="Nth"/>, the shared
/// scratch buffer sized by <see cref="ICpuOp.WorkSize"/>, and a barrier for multi-phase ops (quantize activations into
/// the scratch on all threads, <see cref="Barrier"/>, then dot products).
/// </summary>
public readonly unsafe struct ComputeParams
{
    private readonly IBarrier? _barrier;

    /// <summary>Creates parameters for thread <paramref name="ith"/> of <paramref name="nth"/>.</summary>
    public ComputeParams(int ith, int nth, nint workData, long workSize, IBarrier? barrier)
    {
        Ith = ith;
        Nth = nth;
        WorkData = workData;
        WorkSize = workSize;
        _barrier = barrier;
    }

    /// <summary>This thread's index, 0..Nth-1.</summary>
    public int Ith { get; }
    /// <summary>Number of threads evaluating the node.</summary>
    public int Nth { get; }
    /// <summary>Scratch memory shared by all threads of the node (64-byte aligned), or 0.</summary>
    public nint WorkData { get; }
    /// <summary>Bytes of <see cref="WorkData"/>.</summary>
    public long WorkSize { get; }

    /// <summary>Waits until every thread of the node reaches this point.</summary>
    public void Barrier() => _barrier?.SignalAndWait();

    /// <summary>The half-open range [start, end) of <paramref name="count"/> items this thread owns.</summary>
    public (long Start, long End) Split(long count)
    {
        long per = (count + Nth - 1) / Nth;
        long start = Math.Min(count, per * Ith);
        return (start, Math.Min(count, start + per));
    }
}

/// <summary>A barrier over the threads evaluating a node (the worker pool implements it with spinning).</summary>
public interface IBarrier
{
    /// <summary>Blocks until all participants have called this.</summary>
    void SignalAndWait();
}

/// <summary>
/// A CPU op implementation: one class per op in <c>Weft.Cpu/Ops/</c>, found by reflection at start-up (public,
/// parameterless constructor). Its kernels live in <c>Kernels/</c> and <c>Quants/</c> as a scalar <c>Reference</c> and a
/// <c>Vector256</c> path, chosen once at start-up (<c>WEFT_FORCE_SCALAR=1</c> forces the reference).
/// </summary>
public interface ICpuOp
{
    /// <summary>The op this class computes.</summary>
    OpKind Kind { get; }

    /// <summary>True when this implementation handles the node's dtypes and layout (never throws).</summary>
    bool Supports(Tensor node);

    /// <summary>Scratch bytes the node needs for <paramref name="nThreads"/> threads (0 when none).</summary>
    long WorkSize(Tensor node, int nThreads) => 0;

    /// <summary>
    /// Computes this thread's share of <paramref name="dst"/>. Called on every thread of the pool with the same
    /// node; inputs are placed in host memory (<see cref="Tensor.Data"/>). Must not allocate managed memory.
    /// </summary>
    void Compute(in ComputeParams p, Tensor dst);
}
