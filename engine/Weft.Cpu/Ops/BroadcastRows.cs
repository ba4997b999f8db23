using Weft.Core;
using Weft.Cpu.Kernels;

namespace Weft.Cpu.Ops;

/// <summary>
/// Shared body of Add/Mul: <c>dst[i0, i1, i2, i3] = op(src0[...], src1[i0 % ne10, i1 % ne11, i2 % ne12, i3 % ne13])</c>.
/// </summary>
internal static unsafe class BroadcastRows<TOp> where TOp : IBinaryOperator
{
    public static bool Supports(Tensor node)
    {
        Tensor? a = node.Src[0], b = node.Src[1];
        return OpUtil.IsF32Rows(node) && OpUtil.IsF32Rows(a) && OpUtil.IsF32Rows(b) &&
            Tensor.SameShape(node, a!) && Tensor.CanRepeat(b!, a!) && OpUtil.RowFitsInt(node);
    }

    public static void Compute(in ComputeParams p, Tensor dst)
    {
        Tensor a = dst.Src[0]!, b = dst.Src[1]!;
        int n = (int)dst.Ne[0], nb = (int)b.Ne[0];
        (long start, long end) = p.Split(dst.RowCount);
        for (long r = start; r < end; r++)
        {
            OpUtil.RowIndex(r, dst.Ne, out long i1, out long i2, out long i3);
            Span<float> x = OpUtil.F32(OpUtil.Row(a, i1, i2, i3), n);
            Span<float> y = OpUtil.F32(OpUtil.Row(b, i1 % b.Ne[1], i2 % b.Ne[2], i3 % b.Ne[3]), nb);
            Span<float> d = OpUtil.F32(OpUtil.Row(dst, i1, i2, i3), n);
            if (nb == n)
            {
                Elementwise.Binary<TOp>(x, y, d);
            }
            else if (nb == 1)
            {
                Elementwise.Binary<TOp>(x, y[0], d);
            }
            else
            {
                for (int c = 0; c < n; c += nb)
                {
                    Elementwise.Binary<TOp>(x.Slice(c, nb), y, d.Slice(c, nb));
                }
            }
        }
    }
}
