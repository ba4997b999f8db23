using Weft.Core;

namespace Weft.Vulkan.Ops;

/// <summary>Scale, Silu, Gelu: shaders/unary.comp.</summary>
internal sealed class UnaryOp : IVulkanOp
{
    public OpKind[] Kinds => [OpKind.Scale, OpKind.Silu, OpKind.Gelu];

    public bool Supports(Tensor node, VulkanDevice device) =>
        OpChecks.F32(node) && OpChecks.F32(node.Src[0]) && Tensor.SameShape(node.Src[0]!, node) && OpChecks.FitsU32(node);

    public void Record(VulkanRecorder r, Tensor node)
    {
        string name = node.Op switch { OpKind.Scale => "scale_f32", OpKind.Silu => "silu_f32", _ => "gelu_f32" };
        var pc = new PushConstants();
        r.Bind(0, node.Src[0]!, ref pc);
        r.Bind(3, node, ref pc);
        if (node.Op == OpKind.Scale)
        {
            pc.F0 = node.GetParamF(0);
        }
        r.DispatchElements(name, node.ElementCount, pc);
    }
}
