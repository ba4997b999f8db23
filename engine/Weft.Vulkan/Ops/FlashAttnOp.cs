using Weft.Core;

namespace Weft.Vulkan.Ops;

/// <summary>
/// Flash attention: shaders/flash_attn.comp. Causal and/or a run-time kv length, GQA by head broadcast, an optional
/// F32 or F16 mask (src3, same layout and broadcast as the CPU op), logit softcap; K and V both F32, both F16 or both
/// Q8_0. Two variants: the tile reductions by subgroup operations (<c>flash_attn_*_sg</c>), chosen when the device
/// supports subgroup basic and arithmetic operations in compute shaders, or by one invocation (also forced with
/// <c>WEFT_VULKAN_NO_SUBGROUP=1</c>). Other forms run on the CPU.
/// </summary>
/// <remarks>
/// Q8_0 keys are scored as the CPU scores them (ggml's CPU scheme): the shader rounds the query to Q8_0 with the
/// CPU's exact quantizer steps and sums integer block products, so a q8_0 KV cache gives the CPU's scores up to float
/// summation order. Q8_0 values are dequantized and accumulated in F32.
/// </remarks>
internal sealed class FlashAttnOp : IVulkanOp
{
    private const uint Workgroup = 64;
    private const int MaxHeadDim = 256;
    // VkSubgroupFeatureFlagBits: BASIC | ARITHMETIC.
    private const uint SubgroupNeeds = 0x1u | 0x4u;

    public OpKind[] Kinds => [OpKind.FlashAttn];

    /// <summary>True when the subgroup variant runs on <paramref name="device"/> (read at each recording, so tests can switch it).</summary>
    internal static bool UsesSubgroups(VulkanDevice device) =>
        (device.Info.SubgroupOperations & SubgroupNeeds) == SubgroupNeeds && Environment.GetEnvironmentVariable("WEFT_VULKAN_NO_SUBGROUP") != "1";

    /// <summary>The shader variant that runs <paramref name="node"/> on <paramref name="device"/>.</summary>
    internal static string ShaderName(Tensor node, VulkanDevice device)
    {
        string type = node.Src[1]!.Type switch
        {
            DType.F32 => "f32",
            DType.F16 => "f16",
            DType.Q8_0 => "q8_0",
            _ => throw new System.Diagnostics.UnreachableException($"FlashAttn '{node.Name}': no shader for K type {node.Src[1]!.Traits.Name}."),
        };
        return UsesSubgroups(device) ? $"flash_attn_{type}_sg" : $"flash_attn_{type}";
    }

    public bool Supports(Tensor node, VulkanDevice device)
    {
        Tensor? q = node.Src[0], k = node.Src[1], v = node.Src[2], mask = node.Src[3], kvLen = node.Src[4];
        if (q is null || k is null || v is null || !OpChecks.F32(node) || !node.IsContiguous || !OpChecks.F32(q) || q.Nb[0] != sizeof(float))
        {
            return false;
        }
        bool types = k.Type == v.Type && (k.Type is DType.F32 or DType.F16 || (k.Type == DType.Q8_0 && k.Ne[0] % 32 == 0 && v.Ne[0] % 32 == 0));
        bool maskOk = mask is null || (mask.Type is DType.F32 or DType.F16 && mask.Nb[0] == mask.Traits.TypeSize &&
            mask.Ne[0] >= k.Ne[1] && mask.Ne[1] >= q.Ne[1] && mask.Ne[2] > 0 && mask.Ne[3] > 0 &&
            q.Ne[2] % mask.Ne[2] == 0 && q.Ne[3] % mask.Ne[3] == 0 && OpChecks.FitsU32(mask));
        return types && maskOk && k.Nb[0] == k.Traits.TypeSize && v.Nb[0] == v.Traits.TypeSize &&
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
        // Slots whose own value is implied carry the mask's layout (see flash_attn.comp): q.nb00 = mask nb1,
        // k.ne10 = mask ne2, k.nb10 = mask nb2, dst ne1/ne2/ne3 = mask ne3, nb3, offset.
        (pc.Nb00, pc.Ne10, pc.Nb10, pc.Ne1, pc.Ne2, pc.Ne3) = (0u, 1u, 0u, 1u, 0u, 0u);
        if (node.Src[3] is Tensor mask)
        {
            uint maskOff = r.Bind(5, mask, ref pc);
            (pc.Nb00, pc.Ne10, pc.Nb10, pc.Ne1, pc.Ne2, pc.Ne3) =
                ((uint)mask.Nb[1], (uint)mask.Ne[2], (uint)mask.Nb[2], (uint)mask.Ne[3], (uint)mask.Nb[3], maskOff);
            flags |= mask.Type == DType.F16 ? 4u | 8u : 4u;
        }
        // dst is contiguous, so its stride slots carry v's strides and the kv length offset.
        (pc.Nb0, pc.Nb1, pc.Nb2, pc.Nb3) = ((uint)v.Nb[1], (uint)v.Nb[2], (uint)v.Nb[3], kvLenOff);
        pc.F0 = node.GetParamF(0);
        pc.F1 = node.GetParamF(3);
        pc.I0 = flags;
        pc.I1 = (uint)node.Params[2];
        r.Dispatch(ShaderName(node, r.Device), Workgroup, (uint)q.Ne[2], (uint)q.Ne[1], (uint)q.Ne[3], pc);
    }
}
