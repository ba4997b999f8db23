using Weft.Core;

namespace Weft.Vulkan.Ops;

/// <summary>RmsNorm and Norm, one workgroup per row: shaders/norm.comp.</summary>
internal sealed class NormOp : IVulkanOp
{
    public OpKind[] Kinds => [OpKind.RmsNorm, OpKind.Norm];

    public bool Supports(Tensor node, VulkanDevice device) =>
        OpChecks.F32(node) && OpChecks.F32(node.Src[0]) && Tensor.SameShape(node.Src[0]!, node) && OpChecks.FitsU32(node);

    public void Record(VulkanRecorder r, Tensor node)
    {
        var pc = new PushConstants();
        r.Bind(0, node.Src[0]!, ref pc);
        r.Bind(3, node, ref pc);
        pc.F0 = node.GetParamF(0);
        r.DispatchRows(node.Op == OpKind.RmsNorm ? "rms_norm_f32" : "norm_f32", node.RowCount, 128, pc);
    }
}
