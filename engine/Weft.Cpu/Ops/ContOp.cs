using Weft.Core;

namespace Weft.Cpu.Ops;

/// <summary>CPU <see cref="OpKind.Cont"/>: a contiguous copy of a (possibly strided) view, same type.</summary>
public sealed class ContOp : ICpuOp
{
    /// <inheritdoc/>
    public OpKind Kind => OpKind.Cont;
    /// <inheritdoc/>
    public bool Supports(Tensor node) => node.Src[0] is Tensor src && src.Type == node.Type && Tensor.SameShape(src, node) && TensorCopy.Supports(src, node);
    /// <inheritdoc/>
    public long WorkSize(Tensor node, int nThreads) => TensorCopy.WorkSize(node.Src[0]!, nThreads);
    /// <inheritdoc/>
    public void Compute(in ComputeParams p, Tensor dst) => TensorCopy.Compute(p, dst.Src[0]!, dst);
}
