using Weft.Core;
using Weft.Cpu.Kernels;

namespace Weft.Cpu.Ops;

/// <summary>CPU <see cref="OpKind.RmsNorm"/>: each row divided by its RMS (eps = param 0), see <see cref="RmsNormKernel"/>.</summary>
public sealed unsafe class RmsNormOp : ICpuOp
{
    /// <inheritdoc/>
    public OpKind Kind => OpKind.RmsNorm;
    /// <inheritdoc/>
    public bool Supports(Tensor node) => OpUtil.IsSameShapeF32Rows(node);

    /// <inheritdoc/>
    public void Compute(in ComputeParams p, Tensor dst)
    {
        Tensor src = dst.Src[0]!;
        float eps = dst.GetParamF(0);
        long n = dst.Ne[0];
        (long start, long end) = p.Split(dst.RowCount);
        for (long r = start; r < end; r++)
        {
            OpUtil.RowIndex(r, dst.Ne, out long i1, out long i2, out long i3);
            RmsNormKernel.Row(OpUtil.F32(OpUtil.Row(src, i1, i2, i3), n), OpUtil.F32(OpUtil.Row(dst, i1, i2, i3), n), eps);
        }
    }
}
