using Weft.Core;

namespace Weft.Vulkan.Ops;

/// <summary>Add, Mul (src1 broadcast) and SwiGlu: shaders/binary.comp.</summary>
internal sealed class BinaryOp : IVulkanOp
{
    public OpKind[] Kinds => [OpKind.Add, OpKind.Mul, OpKind.SwiGlu];

    public bool Supports(Tensor node, VulkanDevice device)
    {
        Tensor? a = node.Src[0], b = node.Src[1];
        return OpChecks.F32(node) && OpChecks.F32(a) && OpChecks.F32(b) && Tensor.SameShape(a!, node) && Tensor.CanRepeat(b!, a!) && OpChecks.FitsU32(node);
    }

    public void Record(VulkanRecorder r, Tensor node)
    {
        string name = node.Op switch { OpKind.Add => "add_f32", OpKind.Mul => "mul_f32", _ => "swiglu_f32" };
        var pc = new PushConstants();
        r.Bind(0, node.Src[0]!, ref pc);
        r.Bind(1, node.Src[1]!, ref pc);
        r.Bind(3, node, ref pc);
        r.DispatchElements(name, node.ElementCount, pc);
    }
}
