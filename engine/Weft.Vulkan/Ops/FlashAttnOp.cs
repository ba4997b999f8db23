using Weft.Core;

namespace Weft.Vulkan.Ops;

/// <summary>
/// Flash attention without a mask or softcap (causal and/or a run-time kv length, GQA by head broadcast), K and V
/// both F32 or both F16: shaders/flash_attn.comp. Other forms run on the CPU.
/// </summary>
internal sealed class FlashAttnOp : IVulkanOp
{
    private const uint Workgroup = 64;
    private const int MaxHeadDim = 256;

    public OpKind[] Kinds => [OpKind.FlashAttn];

    public bool Supports(Tensor node, VulkanDevice device)
    {
        Tensor? q = node.Src[0], k = node.Src[1], v = node.Src[2], mask = node.Src[3], kvLen = node.Src[4];
        return q is not null && k is not null && v is not null && mask is null && node.GetParamF(3) == 0f &&
            OpChecks.F32(node) && node.IsContiguous && OpChecks.F32(q) && k.Type == v.Type && k.Type is DType.F32 or DType.F16 &&
            k.Nb[0] == k.Traits.TypeSize && v.Nb[0] == v.Traits.TypeSize &&
            (kvLen is null || (kvLen.Type == DType.I32 && kvLen.ElementCount == 1)) &&
            q.Ne[0] <= MaxHeadDim && v.Ne[0] <= MaxHeadDim && k.Ne[0] == q.Ne[0] && v.Ne[1] == k.Ne[1] && v.Ne[2] == k.Ne[2] &&
            k.Ne[2] > 0 && q.Ne[2] % k.Ne[2] == 0 && k.Ne[3] > 0 && v.Ne[3] == k.Ne[3] && q.Ne[3] % k.Ne[3] == 0 &&
            node.Ne[0] == v.Ne[0] && node.Ne[1] == q.Ne[2] && node.Ne[2] == q.Ne[1] && node.Ne[3] == q.Ne[3] &&
            q.Ne[2] <= 65535 && q.Ne[1] <= 65535 && q.Ne[3] <= 65535 &&
            OpChecks.FitsU32(q) && OpChecks.FitsU32(k) && OpChecks.FitsU32(v) && OpChecks.FitsU32(node);
    }

    public void Record(VulkanRecorder r, Tensor node)
    {
        Tensor q = node.Src[0]!, k = node.Src[1]!, v = node.Src[2]!;
        var pc = new PushConstants();
        r.Bind(0, q, ref pc);
        r.Bind(1, k, ref pc);
        r.Bind(2, v, ref pc);
        r.Bind(3, node, ref pc);
        uint flags = node.Params[1] != 0 ? 1u : 0u;
        uint kvLenOff = 0;
        if (node.Src[4] is Tensor kvLen)
        {
            kvLenOff = r.Bind(4, kvLen, ref pc);
            flags |= 2u;
        }
        // dst is contiguous, so its stride slots carry v's strides and the kv length offset (see flash_attn.comp).
        (pc.Nb0, pc.Nb1, pc.Nb2, pc.Nb3) = ((uint)v.Nb[1], (uint)v.Nb[2], (uint)v.Nb[3], kvLenOff);
        pc.F0 = node.GetParamF(0);
        pc.I0 = flags;
        pc.I1 = (uint)node.Params[2];
        r.Dispatch(k.Type == DType.F32 ? "flash_attn_f32" : "flash_attn_f16", Workgroup, (uint)q.Ne[2], (uint)q.Ne[1], (uint)q.Ne[3], pc);
    }
}
