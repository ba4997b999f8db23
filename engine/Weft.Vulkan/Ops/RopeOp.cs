using Weft.Core;

namespace Weft.Vulkan.Ops;

/// <summary>Rotary embedding (normal and NeoX, YaRN ramp, frequency factors): shaders/rope.comp.</summary>
internal sealed class RopeOp : IVulkanOp
{
    public OpKind[] Kinds => [OpKind.Rope];

    public bool Supports(Tensor node, VulkanDevice device)
    {
        Tensor? a = node.Src[0], pos = node.Src[1], ff = node.Src[2];
        int nDims = node.Params[1], mode = node.Params[2];
        return OpChecks.F32(node) && OpChecks.F32(a) && Tensor.SameShape(a!, node) && OpChecks.FitsU32(node) &&
            pos is not null && pos.Type == DType.I32 && pos.IsContiguous && pos.Ne[0] == node.Ne[2] &&
            nDims > 0 && nDims % 2 == 0 && nDims <= node.Ne[0] && mode is RopeMode.Normal or RopeMode.NeoX &&
            (ff is null || (OpChecks.F32(ff) && ff.IsContiguous && ff.Ne[0] >= nDims / 2));
    }

    public void Record(VulkanRecorder r, Tensor node)
    {
        int nDims = node.Params[1];
        float freqBase = node.GetParamF(5);
        var (low, high) = CorrDims(nDims, node.Params[4], freqBase, node.GetParamF(9), node.GetParamF(10));
        var pc = new PushConstants();
        r.Bind(0, node.Src[0]!, ref pc);
        r.Bind(1, node.Src[1]!, ref pc);
        if (node.Src[2] is Tensor ff)
        {
            r.Bind(2, ff, ref pc);
        }
        r.Bind(3, node, ref pc);
        pc.I0 = (uint)nDims;
        pc.I1 = (uint)node.Params[2];
        pc.F0 = freqBase;
        pc.F1 = node.GetParamF(6);
        pc.Ne10 = BitConverter.SingleToUInt32Bits(node.GetParamF(7));
        pc.Ne11 = BitConverter.SingleToUInt32Bits(node.GetParamF(8));
        pc.Ne12 = BitConverter.SingleToUInt32Bits(low);
        pc.Ne13 = BitConverter.SingleToUInt32Bits(high);
        r.DispatchElements(node.Src[2] is null ? "rope_f32" : "rope_f32_ff", node.ElementCount, pc);
    }

    // YaRN correction range (same formula as the CPU RopeKernel.CorrDims).
    private static (float Low, float High) CorrDims(int nDims, int nCtxOrig, float freqBase, float betaFast, float betaSlow)
    {
        static float Dim(int nDims, int nCtxOrig, float nRot, float freqBase) =>
            nDims * MathF.Log(nCtxOrig / (nRot * 2f * MathF.PI)) / (2f * MathF.Log(freqBase));
        float start = MathF.Floor(Dim(nDims, nCtxOrig, betaFast, freqBase));
        float end = MathF.Ceiling(Dim(nDims, nCtxOrig, betaSlow, freqBase));
        return (MathF.Max(0f, start), MathF.Min(nDims - 1, end));
    }
}
