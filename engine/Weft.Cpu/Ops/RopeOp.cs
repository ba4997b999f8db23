using Weft.Core;
using Weft.Cpu.Kernels;

namespace Weft.Cpu.Ops;

/// <summary>
/// CPU <see cref="OpKind.Rope"/>: src0 [head_dim, n_head, n_tokens, ne3] rotated by positions src1 (I32 [n_tokens]),
/// optional frequency factors src2; params as <see cref="GraphBuilder.Rope"/>. See <see cref="RopeKernel"/>.
/// </summary>
/// <remarks>Rows (heads × tokens) are split over threads; each thread caches cos/sin for the token it is on in its scratch slice.</remarks>
public sealed unsafe class RopeOp : ICpuOp
{
    /// <inheritdoc/>
    public OpKind Kind => OpKind.Rope;

    /// <inheritdoc/>
    public bool Supports(Tensor node)
    {
        Tensor? pos = node.Src[1], ff = node.Src[2];
        int nDims = node.Params[1], mode = node.Params[2];
        return OpUtil.IsSameShapeF32Rows(node) &&
            pos is not null && pos.Type == DType.I32 && pos.Nb[0] == sizeof(int) && pos.Ne[0] == node.Ne[2] &&
            nDims > 0 && nDims % 2 == 0 && nDims <= node.Ne[0] && mode is RopeMode.Normal or RopeMode.NeoX &&
            (ff is null || (OpUtil.IsF32Rows(ff) && ff.Ne[0] >= nDims / 2));
    }

    /// <inheritdoc/>
    public long WorkSize(Tensor node, int nThreads) => OpUtil.SliceBytes(node.Params[1]) * nThreads;

    /// <inheritdoc/>
    public void Compute(in ComputeParams p, Tensor dst)
    {
        Tensor src = dst.Src[0]!, pos = dst.Src[1]!;
        Tensor? ffT = dst.Src[2];
        int nDims = dst.Params[1], mode = dst.Params[2], nCtxOrig = dst.Params[4];
        float freqBase = dst.GetParamF(5), freqScale = dst.GetParamF(6), extFactor = dst.GetParamF(7), attnFactor = dst.GetParamF(8);
        float betaFast = dst.GetParamF(9), betaSlow = dst.GetParamF(10);
        (float low, float high) = RopeKernel.CorrDims(nDims, nCtxOrig, freqBase, betaFast, betaSlow);
        int half = nDims / 2;
        float* cache = OpUtil.Scratch(p, nDims);
        Span<float> cos = new(cache, half), sin = new(cache + half, half);
        ReadOnlySpan<float> ff = ffT is null ? default : new ReadOnlySpan<float>((void*)ffT.Data, half);
        long n = dst.Ne[0];
        long cachedToken = -1;
        (long start, long end) = p.Split(dst.RowCount);
        for (long r = start; r < end; r++)
        {
            OpUtil.RowIndex(r, dst.Ne, out long i1, out long i2, out long i3);
            if (i2 != cachedToken)
            {
                int position = ((int*)pos.Data)[i2];
                RopeKernel.CacheInit(position, nDims, freqBase, freqScale, ff, low, high, extFactor, attnFactor, cos, sin);
                cachedToken = i2;
            }
            RopeKernel.Row(OpUtil.F32(OpUtil.Row(src, i1, i2, i3), n), OpUtil.F32(OpUtil.Row(dst, i1, i2, i3), n), cos, sin, nDims, mode);
        }
    }
}
