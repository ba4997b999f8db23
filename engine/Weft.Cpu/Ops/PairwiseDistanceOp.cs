using Weft.Core;
using Weft.Cpu.Kernels;

namespace Weft.Cpu.Ops;

/// <summary>
/// CPU <see cref="OpKind.PairwiseDistance"/>: <c>dst[i, j] = distance(src0[:, i], src1[:, j])</c> for F32 src0
/// [d, n_a] and src1 [d, n_b] with contiguous rows (param 0: <see cref="PairwiseMetric"/>). See <see cref="PairwiseDistanceKernel"/>.
/// </summary>
/// <remarks>
/// The output is cut into tiles of <see cref="TileA"/> src0 vectors × <see cref="TileB"/> src1 vectors, and the
/// threads split the tiles; within a tile the src0 block (32 KiB at d = 128) stays in cache while each src1 vector of
/// the tile is compared with it. Every element is computed by exactly one thread in a fixed order, so the result does
/// not depend on the thread count.
/// </remarks>
public sealed unsafe class PairwiseDistanceOp : ICpuOp
{
    /// <summary>src0 vectors per tile.</summary>
    public const int TileA = 64;

    /// <summary>src1 vectors per tile.</summary>
    public const int TileB = 16;

    /// <inheritdoc/>
    public OpKind Kind => OpKind.PairwiseDistance;

    /// <inheritdoc/>
    public bool Supports(Tensor node)
    {
        Tensor? a = node.Src[0], b = node.Src[1];
        return OpUtil.IsF32Rows(node) && OpUtil.IsF32Rows(a) && OpUtil.IsF32Rows(b) &&
            a!.Ne[0] == b!.Ne[0] && a.Ne[0] <= int.MaxValue && a.Ne[2] == 1 && a.Ne[3] == 1 && b.Ne[2] == 1 && b.Ne[3] == 1 &&
            node.Ne[0] == a.Ne[1] && node.Ne[1] == b.Ne[1] && node.Ne[2] == 1 && node.Ne[3] == 1 &&
            a.Nb[1] % sizeof(float) == 0 && b.Nb[1] % sizeof(float) == 0 &&
            node.Params[0] is (int)PairwiseMetric.L2Squared or (int)PairwiseMetric.InnerProduct;
    }

    /// <inheritdoc/>
    public void Compute(in ComputeParams p, Tensor dst)
    {
        Tensor a = dst.Src[0]!, b = dst.Src[1]!;
        var metric = (PairwiseMetric)dst.Params[0];
        int d = (int)a.Ne[0];
        long na = a.Ne[1], nb = b.Ne[1];
        long tilesA = (na + TileA - 1) / TileA, tilesB = (nb + TileB - 1) / TileB;
        long aStride = a.Nb[1] / sizeof(float);
        (long start, long end) = p.Split(tilesA * tilesB);
        for (long t = start; t < end; t++)
        {
            long i0 = t / tilesB * TileA, j0 = t % tilesB * TileB;
            int countA = (int)Math.Min(TileA, na - i0);
            long j1 = Math.Min(nb, j0 + TileB);
            float* ablock = (float*)((byte*)a.Data + i0 * a.Nb[1]);
            for (long j = j0; j < j1; j++)
            {
                float* bv = (float*)((byte*)b.Data + j * b.Nb[1]);
                float* drow = (float*)((byte*)dst.Data + j * dst.Nb[1]) + i0;
                PairwiseDistanceKernel.Block(ablock, aStride, countA, bv, d, metric, drow);
            }
        }
    }
}
