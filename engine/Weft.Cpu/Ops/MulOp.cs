using Weft.Core;
using Weft.Cpu.Kernels;

namespace Weft.Cpu.Ops;

/// <summary>CPU <see cref="OpKind.Mul"/>: <c>dst = src0 · src1</c>, src1 repeated along every dim whose size divides.</summary>
public sealed class MulOp : ICpuOp
{
    /// <inheritdoc/>
    public OpKind Kind => OpKind.Mul;
    /// <inheritdoc/>
    public bool Supports(Tensor node) => BroadcastRows<MulOperator>.Supports(node);
    /// <inheritdoc/>
    public void Compute(in ComputeParams p, Tensor dst) => BroadcastRows<MulOperator>.Compute(p, dst);
}
