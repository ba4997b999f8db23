using Weft.Core;
using Weft.Cpu.Kernels;

namespace Weft.Cpu.Ops;

/// <summary>
/// CPU <see cref="OpKind.SoftMax"/>: softmax of each row of <c>src0·scale + mask</c> (params: 0 scale, 1 causal,
/// 2 n_past; optional F32 mask src1 with row i1 for row i1, broadcast over dims 2 and 3). See <see cref="SoftMaxKernel"/>.
/// </summary>
public sealed unsafe class SoftMaxOp : ICpuOp
{
    /// <inheritdoc/>
    public OpKind Kind => OpKind.SoftMax;

    /// <inheritdoc/>
    public bool Supports(Tensor node)
    {
        if (!OpUtil.IsSameShapeF32Rows(node))
        {
            return false;
        }
        Tensor? mask = node.Src[1];
        return mask is null || (OpUtil.IsF32Rows(mask) && mask.Ne[0] >= node.Ne[0] && mask.Ne[1] >= node.Ne[1] &&
            mask.Ne[2] > 0 && mask.Ne[3] > 0 && node.Ne[2] % mask.Ne[2] == 0 && node.Ne[3] % mask.Ne[3] == 0);
    }

    /// <inheritdoc/>
    public void Compute(in ComputeParams p, Tensor dst)
    {
        Tensor src = dst.Src[0]!;
        Tensor? mask = dst.Src[1];
        float scale = dst.GetParamF(0);
        bool causal = dst.Params[1] != 0;
        long nPast = dst.Params[2];
        long n = dst.Ne[0];
        (long start, long end) = p.Split(dst.RowCount);
        for (long r = start; r < end; r++)
        {
            OpUtil.RowIndex(r, dst.Ne, out long i1, out long i2, out long i3);
            ReadOnlySpan<float> m = mask is null ? default : OpUtil.F32(OpUtil.Row(mask, i1, i2 % mask.Ne[2], i3 % mask.Ne[3]), n);
            int valid = causal ? (int)Math.Clamp(nPast + i1 + 1, 0, n) : (int)n;
            SoftMaxKernel.Row(OpUtil.F32(OpUtil.Row(src, i1, i2, i3), n), m, scale, valid, OpUtil.F32(OpUtil.Row(dst, i1, i2, i3), n));
        }
    }
}
