using Weft.Core;
using Weft.Core.Quants;
using Weft.Cpu.Kernels;

namespace Weft.Cpu.Ops;

/// <summary>
/// CPU <see cref="OpKind.FlashAttn"/>: q F32 [D, n_q, H, ne3]; k F32/F16/Q8_0 [D, n_kv, H_kv, *]; v F32/F16/Q8_0 [Dv, n_kv, H_kv, *]
/// (rows contiguous, other strides free: views of a KV cache work); optional F32/F16 mask src3 [≥ n_kv, ≥ n_q, *, *]
/// broadcast over heads; output F32 [Dv, H, n_q, ne3]. Params: 0 scale, 1 causal, 2 n_past, 3 softcap.
/// </summary>
/// <remarks>
/// Query head h reads KV head h / (H / H_kv) (GQA/MQA). With causal set, query i sees keys j ≤ n_past + i.
/// Work is split over (query, head) pairs; each pair is one pass over its keys (see <see cref="FlashAttnKernel"/>).
/// Q8_0 keys are scored as ggml's CPU does: the query row is quantized to Q8_0 and dotted with integer block sums
/// (D and Dv must then be multiples of 32).
/// </remarks>
public sealed unsafe class FlashAttnOp : ICpuOp
{
    /// <inheritdoc/>
    public OpKind Kind => OpKind.FlashAttn;

    /// <inheritdoc/>
    public bool Supports(Tensor node)
    {
        Tensor? q = node.Src[0], k = node.Src[1], v = node.Src[2], mask = node.Src[3], kvLen = node.Src[4];
        if (q is null || k is null || v is null || !OpUtil.IsF32Rows(node) || q.Type != DType.F32)
        {
            return false;
        }
        if (kvLen is not null && (kvLen.Type != DType.I32 || kvLen.ElementCount != 1))
        {
            return false;
        }
        if (!FlashAttnKernel.SupportsType(k.Type, k.Ne[0]) || !FlashAttnKernel.SupportsType(v.Type, v.Ne[0]) ||
            k.Nb[0] != k.Traits.TypeSize || v.Nb[0] != v.Traits.TypeSize)
        {
            return false;
        }
        if (k.Ne[0] != q.Ne[0] || v.Ne[1] != k.Ne[1] || v.Ne[2] != k.Ne[2] || k.Ne[2] <= 0 || q.Ne[2] % k.Ne[2] != 0 ||
            k.Ne[3] <= 0 || v.Ne[3] != k.Ne[3] || q.Ne[3] % k.Ne[3] != 0)
        {
            return false;
        }
        if (node.Ne[0] != v.Ne[0] || node.Ne[1] != q.Ne[2] || node.Ne[2] != q.Ne[1] || node.Ne[3] != q.Ne[3] ||
            q.Ne[0] > int.MaxValue / 2 || v.Ne[0] > int.MaxValue || k.Ne[1] > int.MaxValue)
        {
            return false;
        }
        return mask is null || (mask.Type is DType.F32 or DType.F16 && mask.Nb[0] == mask.Traits.TypeSize &&
            mask.Ne[0] >= k.Ne[1] && mask.Ne[1] >= q.Ne[1] && mask.Ne[2] > 0 && mask.Ne[3] > 0 &&
            q.Ne[2] % mask.Ne[2] == 0 && q.Ne[3] % mask.Ne[3] == 0);
    }

    private static long ScratchFloats(Tensor node)
    {
        Tensor q = node.Src[0]!, k = node.Src[1]!;
        Tensor? mask = node.Src[3];
        return q.Ne[0] + (mask is not null && mask.Type == DType.F16 ? k.Ne[1] : 0);
    }

    /// <inheritdoc/>
    public long WorkSize(Tensor node, int nThreads) => OpUtil.SliceBytes(ScratchFloats(node)) * nThreads;

    /// <inheritdoc/>
    public void Compute(in ComputeParams p, Tensor dst)
    {
        Tensor q = dst.Src[0]!, k = dst.Src[1]!, v = dst.Src[2]!;
        Tensor? mask = dst.Src[3];
        float scale = dst.GetParamF(0), softcap = dst.GetParamF(3);
        bool causal = dst.Params[1] != 0;
        long nPast = dst.Params[2];
        int d = (int)q.Ne[0], dv = (int)v.Ne[0], nKv = (int)k.Ne[1];
        long nQ = q.Ne[1], nHead = q.Ne[2];
        if (dst.Src[4] is Tensor kvLen)
        {
            // Run-time cache fill: only the first kvLen keys exist, and the queries are the last nQ of them.
            int len = *(int*)kvLen.Data;
            if (len < 0 || len > nKv)
            {
                throw new ArgumentOutOfRangeException(nameof(dst), $"FlashAttn '{dst.Name}': kv length {len} is outside 0..{nKv}.");
            }
            nKv = len;
            nPast = len - nQ;
        }
        long groups = nHead / k.Ne[2];
        (long start, long end) = p.Split(nQ * nHead * q.Ne[3]);
        if (start >= end)
        {
            return;
        }
        float* qBuf = OpUtil.Scratch(p, ScratchFloats(dst));
        float* maskBuf = qBuf + d;
        for (long w = start; w < end; w++)
        {
            long h = w % nHead;
            long iq = w / nHead % nQ;
            long i3 = w / (nHead * nQ);
            byte* qRow = OpUtil.Row(q, iq, h, i3);
            for (int i = 0; i < d; i++)
            {
                qBuf[i] = *(float*)(qRow + i * q.Nb[0]);
            }
            long hk = h / groups, k3 = i3 % k.Ne[3];
            var kv = new FlashAttnKernel.KvHead(
                (nint)OpUtil.Row(k, 0, hk, k3), k.Nb[1], k.Type, (nint)OpUtil.Row(v, 0, hk, k3), v.Nb[1], v.Type);
            int visible = causal ? (int)Math.Clamp(nPast + iq + 1, 0, nKv) : nKv;
            float* maskRow = null;
            if (mask is not null)
            {
                byte* m = OpUtil.Row(mask, iq, h % mask.Ne[2], i3 % mask.Ne[3]);
                if (mask.Type == DType.F16)
                {
                    for (int j = 0; j < visible; j++)
                    {
                        maskBuf[j] = Fp16.ToFloat(((ushort*)m)[j]);
                    }
                    maskRow = maskBuf;
                }
                else
                {
                    maskRow = (float*)m;
                }
            }
            FlashAttnKernel.Query(qBuf, d, kv, visible, dv, maskRow, scale, softcap, (float*)OpUtil.Row(dst, h, iq, i3));
        }
    }
}
