using Weft.Core;
using Weft.Cpu.Kernels;

namespace Weft.Cpu.Ops;

/// <summary>CPU <see cref="OpKind.Scale"/>: <c>dst = x·s</c> with s = param 0.</summary>
public sealed unsafe class ScaleOp : ICpuOp
{
    /// <inheritdoc/>
    public OpKind Kind => OpKind.Scale;
    /// <inheritdoc/>
    public bool Supports(Tensor node) => OpUtil.IsSameShapeF32Rows(node);

    /// <inheritdoc/>
    public void Compute(in ComputeParams p, Tensor dst)
    {
        Tensor src = dst.Src[0]!;
        float s = dst.GetParamF(0);
        long n = dst.Ne[0];
        (long start, long end) = p.Split(dst.RowCount);
        for (long r = start; r < end; r++)
        {
            OpUtil.RowIndex(r, dst.Ne, out long i1, out long i2, out long i3);
            Elementwise.Binary<MulOperator>(OpUtil.F32(OpUtil.Row(src, i1, i2, i3), n), s, OpUtil.F32(OpUtil.Row(dst, i1, i2, i3), n));
        }
    }
}
