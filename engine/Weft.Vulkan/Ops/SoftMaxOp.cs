using Weft.Core;

namespace Weft.Vulkan.Ops;

/// <summary>SoftMax with scale, causal n_past and an optional additive mask: shaders/softmax.comp.</summary>
internal sealed class SoftMaxOp : IVulkanOp
{
    public OpKind[] Kinds => [OpKind.SoftMax];

    public bool Supports(Tensor node, VulkanDevice device)
    {
        Tensor? a = node.Src[0], m = node.Src[1];
        return OpChecks.F32(node) && OpChecks.F32(a) && Tensor.SameShape(a!, node) && OpChecks.FitsU32(node) &&
            (m is null || (OpChecks.F32(m) && m.Ne[0] >= node.Ne[0] && m.Ne[1] >= node.Ne[1] && m.Ne[2] > 0 && m.Ne[3] > 0 &&
                node.Ne[2] % m.Ne[2] == 0 && node.Ne[3] % m.Ne[3] == 0));
    }

    public void Record(VulkanRecorder r, Tensor node)
    {
        var pc = new PushConstants();
        r.Bind(0, node.Src[0]!, ref pc);
        if (node.Src[1] is Tensor m)
        {
            r.Bind(1, m, ref pc);
        }
        r.Bind(3, node, ref pc);
        pc.F0 = node.GetParamF(0);
        pc.I0 = (uint)node.Params[1];
        pc.I1 = (uint)node.Params[2];
        r.DispatchRows(node.Src[1] is null ? "soft_max_f32" : "soft_max_f32_mask", node.RowCount, 128, pc);
    }
}
