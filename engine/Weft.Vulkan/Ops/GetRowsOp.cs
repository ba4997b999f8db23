using Weft.Core;

namespace Weft.Vulkan.Ops;

/// <summary>GetRows from F32/F16/Q8_0/Q4_0/Q4_K/Q6_K rows into F32: shaders/get_rows.comp.</summary>
internal sealed class GetRowsOp : IVulkanOp
{
    public OpKind[] Kinds => [OpKind.GetRows];

    public bool Supports(Tensor node, VulkanDevice device)
    {
        Tensor? a = node.Src[0], ids = node.Src[1];
        return OpChecks.F32(node) && a is not null && ids is not null && OpChecks.TypeSuffix(a.Type) is not null &&
            a.IsRowContiguous && ids.Type == DType.I32 && ids.Nb[0] == sizeof(int) && node.Ne[0] == a.Ne[0] &&
            node.Ne[1] == ids.Ne[0] && node.Ne[2] == ids.Ne[1] && node.Ne[3] == ids.Ne[2] && a.Ne[2] > 0 && a.Ne[3] > 0 &&
            OpChecks.FitsU32(node) && OpChecks.FitsU32(a);
    }

    public void Record(VulkanRecorder r, Tensor node)
    {
        var pc = new PushConstants();
        r.Bind(0, node.Src[0]!, ref pc);
        r.Bind(1, node.Src[1]!, ref pc);
        r.Bind(3, node, ref pc);
        r.DispatchElements("get_rows_" + OpChecks.TypeSuffix(node.Src[0]!.Type), node.ElementCount, pc);
    }
}
