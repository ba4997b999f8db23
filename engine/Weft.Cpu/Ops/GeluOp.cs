using Weft.Core;
using Weft.Cpu.Kernels;

namespace Weft.Cpu.Ops;

/// <summary>CPU <see cref="OpKind.Gelu"/>: tanh-approximated GELU (see <see cref="GeluOperator"/>).</summary>
public sealed class GeluOp : ICpuOp
{
    /// <inheritdoc/>
    public OpKind Kind => OpKind.Gelu;
    /// <inheritdoc/>
    public bool Supports(Tensor node) => OpUtil.IsSameShapeF32Rows(node);
    /// <inheritdoc/>
    public void Compute(in ComputeParams p, Tensor dst) => UnaryRows<GeluOperator>.Compute(p, dst);
}
