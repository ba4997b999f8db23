using Weft.Core;
using Weft.Cpu.Kernels;

namespace Weft.Cpu.Ops;

/// <summary>CPU <see cref="OpKind.SwiGlu"/>: <c>dst = silu(gate) · up</c> (same shapes).</summary>
public sealed unsafe class SwiGluOp : ICpuOp
{
    /// <inheritdoc/>
    public OpKind Kind => OpKind.SwiGlu;

    /// <inheritdoc/>
    public bool Supports(Tensor node)
    {
        Tensor? a = node.Src[0], b = node.Src[1];
        return OpUtil.IsF32Rows(node) && OpUtil.IsF32Rows(a) && OpUtil.IsF32Rows(b) &&
            Tensor.SameShape(node, a!) && Tensor.SameShape(a!, b!) && OpUtil.RowFitsInt(node);
    }

    /// <inheritdoc/>
    public void Compute(in ComputeParams p, Tensor dst)
    {
        Tensor a = dst.Src[0]!, b = dst.Src[1]!;
        long n = dst.Ne[0];
        (long start, long end) = p.Split(dst.RowCount);
        for (long r = start; r < end; r++)
        {
            OpUtil.RowIndex(r, dst.Ne, out long i1, out long i2, out long i3);
            Elementwise.Binary<SiluOperator>(OpUtil.F32(OpUtil.Row(a, i1, i2, i3), n), OpUtil.F32(OpUtil.Row(b, i1, i2, i3), n),
                OpUtil.F32(OpUtil.Row(dst, i1, i2, i3), n));
        }
    }
}
