using Weft.Core;
using Weft.Cpu.Kernels;

namespace Weft.Cpu.Ops;

/// <summary>CPU <see cref="OpKind.Silu"/>: <c>dst = x·sigmoid(x)</c> (see <see cref="SiluOperator"/>).</summary>
public sealed class SiluOp : ICpuOp
{
    /// <inheritdoc/>
    public OpKind Kind => OpKind.Silu;
    /// <inheritdoc/>
    public bool Supports(Tensor node) => OpUtil.IsSameShapeF32Rows(node);
    /// <inheritdoc/>
    public void Compute(in ComputeParams p, Tensor dst) => UnaryRows<SiluOperator>.Compute(p, dst);
}
