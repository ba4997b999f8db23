using Weft.Core;

namespace Weft.Cpu.Ops;

/// <summary>
/// CPU <see cref="OpKind.Cpy"/>: copies src0 into the view dst (a view of src1, e.g. a slot of the KV cache), converting
/// F32/F16/BF16 both ways and F32 → any quantized type. Strided views work on either side.
/// </summary>
public sealed class CpyOp : ICpuOp
{
    /// <inheritdoc/>
    public OpKind Kind => OpKind.Cpy;
    /// <inheritdoc/>
    public bool Supports(Tensor node) => node.Src[0] is Tensor src && TensorCopy.Supports(src, node);
    /// <inheritdoc/>
    public long WorkSize(Tensor node, int nThreads) => TensorCopy.WorkSize(node.Src[0]!, nThreads);
    /// <inheritdoc/>
    public void Compute(in ComputeParams p, Tensor dst) => TensorCopy.Compute(p, dst.Src[0]!, dst);
}
