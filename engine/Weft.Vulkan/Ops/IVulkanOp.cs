using Weft.Core;

namespace Weft.Vulkan.Ops;

/// <summary>One graph op on Vulkan: says which nodes it handles and records their dispatches.</summary>
internal interface IVulkanOp
{
    /// <summary>The op kinds this implementation handles.</summary>
    OpKind[] Kinds { get; }

    /// <summary>True when <paramref name="node"/> (dtypes, layout, sizes) can run on <paramref name="device"/>.</summary>
    bool Supports(Tensor node, VulkanDevice device);

    /// <summary>Binds the node's tensors and records its dispatch.</summary>
    void Record(VulkanRecorder r, Tensor node);
}

/// <summary>Checks shared by the ops.</summary>
internal static class OpChecks
{
    public static bool F32(Tensor? t) => t is not null && t.Type == DType.F32;

    public static bool FitsU32(Tensor t) => t.ElementCount <= uint.MaxValue && t.ByteSize <= uint.MaxValue;

    /// <summary>Shader variant suffix of a weight type, or null when no shader reads it.</summary>
    public static string? TypeSuffix(DType t) => t switch
    {
        DType.F32 => "f32",
        DType.F16 => "f16",
        DType.Q8_0 => "q8_0",
        DType.Q4_0 => "q4_0",
        DType.Q4_K => "q4_k",
        DType.Q6_K => "q6_k",
        _ => null,
    };

    /// <summary>Workgroups for <paramref name="n"/> invocations of <paramref name="wg"/>: x up to the device limit, y for the rest.</summary>
    public static (uint X, uint Y) Grid(long n, uint wg, uint maxX)
    {
        long groups = Math.Max(1, (n + wg - 1) / wg);
        long x = Math.Min(groups, maxX);
        long y = (groups + x - 1) / x;
        return ((uint)x, (uint)y);
    }
}
