using Weft.Core;

namespace Weft.Vulkan.Ops;

/// <summary>
/// SetRows: scatter F32 rows into an F32, F16 or Q8_0 destination (the KV cache): shaders/set_rows.comp. Q8_0 rows
/// (one invocation per 32-value block) are byte-identical to the CPU's reference quantizer, so a q8_0 KV cache can live
/// on the device and hold what the CPU would write.
/// </summary>
internal sealed class SetRowsOp : IVulkanOp
{
    public OpKind[] Kinds => [OpKind.SetRows];

    public bool Supports(Tensor node, VulkanDevice device)
    {
        Tensor? src = node.Src[0], dst = node.Src[1], ids = node.Src[2];
        return src is not null && dst is not null && ids is not null && src.Type == DType.F32 && ids.Type == DType.I32 &&
            ids.IsContiguous && ids.ElementCount == src.RowCount &&
            (dst.Type is DType.F32 or DType.F16 || (dst.Type == DType.Q8_0 && dst.Ne[0] % 32 == 0)) &&
            dst.Nb[0] == dst.Traits.TypeSize && src.Ne[0] == dst.Ne[0] && OpChecks.FitsU32(src) && OpChecks.FitsU32(dst);
    }

    public void Record(VulkanRecorder r, Tensor node)
    {
        var pc = new PushConstants();
        r.Bind(0, node.Src[0]!, ref pc);
        r.Bind(1, node.Src[2]!, ref pc);
        r.Bind(3, node, ref pc);
        switch (node.Type)
        {
            case DType.F32:
                r.DispatchElements("set_rows_f32", node.Src[0]!.ElementCount, pc);
                break;
            case DType.F16:
                r.DispatchElements("set_rows_f16", node.Src[0]!.ElementCount, pc);
                break;
            case DType.Q8_0:
                r.DispatchElements("set_rows_q8_0", node.Src[0]!.ElementCount / 32, pc);
                break;
            default:
                throw new System.Diagnostics.UnreachableException($"SetRows '{node.Name}': no shader for {node.Traits.Name} (Supports refuses it).");
        }
    }
}
