using System.Runtime.CompilerServices;
using Weft.Core;

namespace Weft.Cpu.Ops;

/// <summary>Helpers shared by the row-wise ops: row index decomposition, F32 row spans, scratch slices.</summary>
internal static unsafe class OpUtil
{
    /// <summary>Splits a flat row index over dims 1..3 of <paramref name="ne"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RowIndex(long r, in Long4 ne, out long i1, out long i2, out long i3)
    {
        i1 = r % ne[1];
        long rest = r / ne[1];
        i2 = rest % ne[2];
        i3 = rest / ne[2];
    }

    /// <summary>Address of row (i1, i2, i3) of <paramref name="t"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte* Row(Tensor t, long i1, long i2, long i3) =>
        (byte*)t.Data + i1 * t.Nb[1] + i2 * t.Nb[2] + i3 * t.Nb[3];

    /// <summary>F32 span of <paramref name="n"/> elements at <paramref name="p"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Span<float> F32(byte* p, long n) => new(p, (int)n);

    /// <summary>True when <paramref name="t"/> is F32 with contiguous rows.</summary>
    public static bool IsF32Rows(Tensor? t) => t is not null && t.Type == DType.F32 && t.Nb[0] == sizeof(float);

    /// <summary>True when the node and its src0 are F32 with contiguous rows and the same shape (row-wise unary ops).</summary>
    public static bool IsSameShapeF32Rows(Tensor node) =>
        IsF32Rows(node) && IsF32Rows(node.Src[0]) && Tensor.SameShape(node, node.Src[0]!) && RowFitsInt(node);

    /// <summary>Bytes of one thread's slice of scratch for <paramref name="floats"/> floats (64-byte multiple).</summary>
    public static long SliceBytes(long floats) => (floats * sizeof(float) + 63) / 64 * 64;

    /// <summary>This thread's scratch slice of <paramref name="floats"/> floats.</summary>
    public static float* Scratch(in ComputeParams p, long floats)
    {
        long bytes = SliceBytes(floats);
        if (p.WorkData == 0 || p.WorkSize < bytes * p.Nth)
        {
            throw new InvalidOperationException(
                $"The op needs {bytes * p.Nth} bytes of scratch for {p.Nth} threads but got {p.WorkSize}; the executor must honour ICpuOp.WorkSize.");
        }
        return (float*)((byte*)p.WorkData + bytes * p.Ith);
    }

    /// <summary>True when every dimension is a non-negative size fitting an int row.</summary>
    public static bool RowFitsInt(Tensor t) => t.Ne[0] <= int.MaxValue;
}
