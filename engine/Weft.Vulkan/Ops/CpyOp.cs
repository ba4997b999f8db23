using Weft.Core;

namespace Weft.Vulkan.Ops;

/// <summary>Cpy (into a view, converting) and Cont between F32 and F16, any strides: shaders/cpy.comp.</summary>
internal sealed class CpyOp : IVulkanOp
{
    public OpKind[] Kinds => [OpKind.Cpy, OpKind.Cont];

    public bool Supports(Tensor node, VulkanDevice device)
    {
        Tensor? a = node.Src[0];
        return a is not null && a.Type is DType.F32 or DType.F16 && node.Type is DType.F32 or DType.F16 &&
            a.ElementCount == node.ElementCount && OpChecks.FitsU32(node) && OpChecks.FitsU32(a);
    }

    public void Record(VulkanRecorder r, Tensor node)
    {
        Tensor a = node.Src[0]!;
        var pc = new PushConstants();
        r.Bind(0, a, ref pc);
        r.Bind(3, node, ref pc);
        r.DispatchElements($"cpy_{OpChecks.TypeSuffix(a.Type)}_{OpChecks.TypeSuffix(node.Type)}", node.ElementCount, pc);
    }
}
