using Weft.Core;
using Weft.Cpu.Kernels;

namespace Weft.Cpu.Ops;

/// <summary>
/// CPU <see cref="OpKind.GetRows"/>: <c>dst[:, r, i2, i3] = float(src0[:, ids[r, i2, i3], i2 % ne02, i3 % ne03])</c> for
/// src0 of any computable type (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K), ids I32.
/// </summary>
/// <exception cref="ArgumentOutOfRangeException">An id is outside [0, ne01) (thrown from Compute, naming the tensor).</exception>
public sealed unsafe class GetRowsOp : ICpuOp
{
    /// <inheritdoc/>
    public OpKind Kind => OpKind.GetRows;

    /// <inheritdoc/>
    public bool Supports(Tensor node)
    {
        Tensor? a = node.Src[0], ids = node.Src[1];
        return OpUtil.IsF32Rows(node) && a is not null && ids is not null && RowConvert.CanRead(a.Type) &&
            a.Nb[0] == a.Traits.TypeSize && ids.Type == DType.I32 && ids.Nb[0] == sizeof(int) &&
            node.Ne[0] == a.Ne[0] && node.Ne[1] == ids.Ne[0] && node.Ne[2] == ids.Ne[1] && node.Ne[3] == ids.Ne[2] &&
            a.Ne[2] > 0 && a.Ne[3] > 0 && OpUtil.RowFitsInt(node);
    }

    /// <inheritdoc/>
    public void Compute(in ComputeParams p, Tensor dst)
    {
        Tensor a = dst.Src[0]!, ids = dst.Src[1]!;
        int n = (int)dst.Ne[0];
        (long start, long end) = p.Split(dst.RowCount);
        for (long r = start; r < end; r++)
        {
            OpUtil.RowIndex(r, dst.Ne, out long i1, out long i2, out long i3);
            int id = *(int*)((byte*)ids.Data + i1 * ids.Nb[0] + i2 * ids.Nb[1] + i3 * ids.Nb[2]);
            if ((uint)id >= (ulong)a.Ne[1])
            {
                throw new ArgumentOutOfRangeException(nameof(dst),
                    $"GetRows '{dst.Name}': id {id} at ({i1}, {i2}, {i3}) of '{ids.Name}' is outside 0..{a.Ne[1] - 1} (rows of '{a.Name}').");
            }
            RowConvert.ToF32(a.Type, OpUtil.Row(a, id, i2 % a.Ne[2], i3 % a.Ne[3]), (float*)OpUtil.Row(dst, i1, i2, i3), n);
        }
    }
}
