using Weft.Core;

namespace Weft.Vulkan.Ops;

/// <summary>SetRows: scatter F32 rows into an F32 or F16 destination (the KV cache): shaders/set_rows.comp.</summary>
internal sealed class SetRowsOp : IVulkanOp
{
    public OpKind[] Kinds => [OpKind.SetRows];

    public bool Supports(Tensor node, VulkanDevice device)
    {
        Tensor? src = node.Src[0], dst = node.Src[1], ids = node.Src[2];
        return src is not null && dst is not null && ids is not null && src.Type == DType.F32 && ids.Type == DType.I32 &&
            ids.IsContiguous && ids.ElementCount == src.RowCount && dst.Type is DType.F32 or DType.F16 &&
            dst.Nb[0] == dst.Traits.TypeSize && src.Ne[0] == dst.Ne[0] && OpChecks.FitsU32(src) && OpChecks.FitsU32(dst);
    }

    public void Record(VulkanRecorder r, Tensor node)
    {
        var pc = new PushConstants();
        r.Bind(0, node.Src[0]!, ref pc);
        r.Bind(1, node.Src[2]!, ref pc);
        r.Bind(3, node, ref pc);
        r.DispatchElements(node.Type == DType.F32 ? "set_rows_f32" : "set_rows_f16", node.Src[0]!.ElementCount, pc);
    }
}
