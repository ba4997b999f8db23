using Weft.Core;
using Weft.Cpu.Kernels;

namespace Weft.Cpu.Ops;

/// <summary>CPU <see cref="OpKind.Add"/>: <c>dst = src0 + src1</c>, src1 repeated along every dim whose size divides.</summary>
public sealed class AddOp : ICpuOp
{
    /// <inheritdoc/>
    public OpKind Kind => OpKind.Add;
    /// <inheritdoc/>
    public bool Supports(Tensor node) => BroadcastRows<AddOperator>.Supports(node);
    /// <inheritdoc/>
    public void Compute(in ComputeParams p, Tensor dst) => BroadcastRows<AddOperator>.Compute(p, dst);
}
