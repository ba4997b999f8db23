using Weft.Core;
using Weft.Core.Quants;
using Weft.Cpu.Kernels;

namespace Weft.Cpu.Ops;

/// <summary>
/// The copy engine behind Cpy and Cont: any strides on either side, converting types through F32 rows when they
/// differ (quantized types through the ggml-exact reference quantizer).
/// </summary>
/// <remarks>
/// When both tensors have the same row length, row r of the source (in i1, i2, i3 order) goes to row r of the
/// destination; otherwise (plain types only) element e goes to element e, in the same linear order as ggml's dup.
/// Quantized tensors must have contiguous rows (whole blocks) and equal row lengths.
/// </remarks>
internal static unsafe class TensorCopy
{
    private static bool IsPlain(DType t) => !TypeTraits.Of(t).IsQuantized;

    public static bool Supports(Tensor src, Tensor dst)
    {
        if (!TypeTraits.IsKnown((int)src.Type) || !TypeTraits.IsKnown((int)dst.Type) ||
            src.ElementCount != dst.ElementCount || !OpUtil.RowFitsInt(src) || !OpUtil.RowFitsInt(dst))
        {
            return false;
        }
        bool sameType = src.Type == dst.Type;
        bool rawPlain = sameType && IsPlain(src.Type) && TypeTraits.Of(src.Type).IsSupported;
        if (!rawPlain && !(RowConvert.CanRead(src.Type) && RowConvert.CanWrite(dst.Type)))
        {
            return false;
        }
        if (!IsPlain(src.Type) || !IsPlain(dst.Type))
        {
            return src.Ne[0] == dst.Ne[0] && src.Nb[0] == src.Traits.TypeSize && dst.Nb[0] == dst.Traits.TypeSize;
        }
        return true;
    }

    public static long WorkSize(Tensor src, int nThreads) => OpUtil.SliceBytes(src.Ne[0]) * nThreads;

    public static void Compute(in ComputeParams p, Tensor src, Tensor dst)
    {
        if (src.Ne[0] == dst.Ne[0])
        {
            CopyRows(p, src, dst);
        }
        else
        {
            CopyElements(p, src, dst);
        }
    }

    private static void CopyRows(in ComputeParams p, Tensor src, Tensor dst)
    {
        int n = (int)src.Ne[0];
        DType st = src.Type, dt = dst.Type;
        int ss = src.Traits.TypeSize, ds = dst.Traits.TypeSize;
        bool srcRows = src.Nb[0] == ss, dstRows = dst.Nb[0] == ds;
        long rowBytes = src.RowBytes;
        (long start, long end) = p.Split(src.RowCount);
        if (start >= end)
        {
            return;
        }
        float* tmp = st == dt ? null : OpUtil.Scratch(p, n);
        for (long r = start; r < end; r++)
        {
            OpUtil.RowIndex(r, src.Ne, out long i1, out long i2, out long i3);
            OpUtil.RowIndex(r, dst.Ne, out long j1, out long j2, out long j3);
            byte* s = OpUtil.Row(src, i1, i2, i3);
            byte* d = OpUtil.Row(dst, j1, j2, j3);
            if (st == dt)
            {
                if (srcRows && dstRows)
                {
                    Buffer.MemoryCopy(s, d, rowBytes, rowBytes);
                }
                else
                {
                    for (int i = 0; i < n; i++)
                    {
                        Buffer.MemoryCopy(s + i * src.Nb[0], d + i * dst.Nb[0], ss, ss);
                    }
                }
                continue;
            }
            if (srcRows)
            {
                RowConvert.ToF32(st, s, tmp, n);
            }
            else
            {
                for (int i = 0; i < n; i++)
                {
                    tmp[i] = Load(st, s + i * src.Nb[0]);
                }
            }
            if (dstRows)
            {
                RowConvert.FromF32(dt, tmp, d, n);
            }
            else
            {
                for (int i = 0; i < n; i++)
                {
                    Store(dt, d + i * dst.Nb[0], tmp[i]);
                }
            }
        }
    }

    private static void CopyElements(in ComputeParams p, Tensor src, Tensor dst)
    {
        DType st = src.Type, dt = dst.Type;
        int ss = src.Traits.TypeSize;
        (long start, long end) = p.Split(src.ElementCount);
        for (long e = start; e < end; e++)
        {
            byte* s = Element(src, e);
            byte* d = Element(dst, e);
            if (st == dt)
            {
                Buffer.MemoryCopy(s, d, ss, ss);
            }
            else
            {
                Store(dt, d, Load(st, s));
            }
        }
    }

    private static byte* Element(Tensor t, long e)
    {
        long i0 = e % t.Ne[0];
        OpUtil.RowIndex(e / t.Ne[0], t.Ne, out long i1, out long i2, out long i3);
        return OpUtil.Row(t, i1, i2, i3) + i0 * t.Nb[0];
    }

    private static float Load(DType t, byte* p) => t switch
    {
        DType.F32 => *(float*)p,
        DType.F16 => Fp16.ToFloat(*(ushort*)p),
        DType.BF16 => Bf16.ToFloat(*(ushort*)p),
        _ => throw new System.Diagnostics.UnreachableException($"TensorCopy: element load of {t}."),
    };

    private static void Store(DType t, byte* p, float v)
    {
        switch (t)
        {
            case DType.F32: *(float*)p = v; break;
            case DType.F16: *(ushort*)p = Fp16.ToHalf(v); break;
            case DType.BF16: *(ushort*)p = Bf16.FromFloat(v); break;
            default: throw new System.Diagnostics.UnreachableException($"TensorCopy: element store of {t}.");
        }
    }
}
