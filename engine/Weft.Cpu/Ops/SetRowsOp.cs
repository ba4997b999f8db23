using Weft.Core;
using Weft.Cpu.Kernels;

namespace Weft.Cpu.Ops;

/// <summary>
/// <see cref="OpKind.SetRows"/>: row r of src0 (F32) is converted into row ids[r] of the destination (src1, whose
/// view the node is). Rows are split over threads; the conversion is <see cref="RowConvert.FromF32"/>.
/// </summary>
public sealed unsafe class SetRowsOp : ICpuOp
{
    /// <inheritdoc/>
    public OpKind Kind => OpKind.SetRows;

    /// <inheritdoc/>
    public bool Supports(Tensor node)
    {
        Tensor? src = node.Src[0], dst = node.Src[1], ids = node.Src[2];
        return src is not null && dst is not null && ids is not null && src.Type == DType.F32 && ids.Type == DType.I32 &&
            src.Nb[0] == sizeof(float) && ids.IsContiguous && dst.Nb[0] == dst.Traits.TypeSize && src.Ne[0] == dst.Ne[0] &&
            src.Ne[0] <= int.MaxValue && RowConvert.CanWrite(dst.Type) && dst.Ne[0] % dst.Traits.BlockSize == 0;
    }

    /// <inheritdoc/>
    public void Compute(in ComputeParams p, Tensor dst)
    {
        Tensor src = dst.Src[0]!, cache = dst.Src[1]!, ids = dst.Src[2]!;
        int n = (int)src.Ne[0];
        long rows = src.RowCount;
        (long start, long end) = p.Split(rows);
        int* id = (int*)ids.Data;
        for (long r = start; r < end; r++)
        {
            int row = id[r];
            if ((uint)row >= (ulong)cache.Ne[1])
            {
                throw new ArgumentOutOfRangeException(nameof(dst), $"SetRows '{dst.Name}': row id {row} is outside '{cache.Name}' ({cache.Ne[1]} rows).");
            }
            OpUtil.RowIndex(r, src.Ne, out long i1, out long i2, out long i3);
            RowConvert.FromF32(cache.Type, (float*)OpUtil.Row(src, i1, i2, i3), (byte*)cache.Data + row * cache.Nb[1], n);
        }
    }
}
