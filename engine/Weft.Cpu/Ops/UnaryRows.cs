using Weft.Core;
using Weft.Cpu.Kernels;

namespace Weft.Cpu.Ops;

/// <summary>Shared body of the element-wise unary ops: rows of src0 → rows of dst through <typeparamref name="TOp"/>.</summary>
internal static unsafe class UnaryRows<TOp> where TOp : IUnaryOperator
{
    public static void Compute(in ComputeParams p, Tensor dst)
    {
        Tensor src = dst.Src[0]!;
        long n = dst.Ne[0];
        (long start, long end) = p.Split(dst.RowCount);
        for (long r = start; r < end; r++)
        {
            OpUtil.RowIndex(r, dst.Ne, out long i1, out long i2, out long i3);
            Elementwise.Unary<TOp>(OpUtil.F32(OpUtil.Row(src, i1, i2, i3), n), OpUtil.F32(OpUtil.Row(dst, i1, i2, i3), n));
        }
    }
}
