using Weft.Core;
using Weft.Vulkan.Ops;

namespace Weft.Vulkan;

/// <summary>The Vulkan op implementations by <see cref="OpKind"/>; kinds without one run on the CPU (per-op fallback).</summary>
internal static class VulkanOpTable
{
    private static readonly IVulkanOp?[] s_ops = Build();

    private static IVulkanOp?[] Build()
    {
        var table = new IVulkanOp?[(int)OpKind.Count];
        IVulkanOp[] all = [new BinaryOp(), new UnaryOp(), new NormOp(), new SoftMaxOp(), new RopeOp(), new GetRowsOp(), new CpyOp(), new MatMulOp(), new SetRowsOp(), new FlashAttnOp()];
        all = [.. all, new PairwiseDistanceOp()];
        foreach (IVulkanOp op in all)
        {
            foreach (OpKind k in op.Kinds)
            {
                table[(int)k] = op;
            }
        }
        return table;
    }

    /// <summary>True for the no-op views (nothing to record).</summary>
    public static bool IsView(OpKind k) => k is OpKind.Reshape or OpKind.View or OpKind.Permute or OpKind.Transpose;

    /// <summary>The implementation of <paramref name="node"/>'s op, a view marker, or null.</summary>
    public static IVulkanOp? Find(Tensor node) => IsView(node.Op) ? ViewOp.Instance : (uint)node.Op < (uint)s_ops.Length ? s_ops[(int)node.Op] : null;

    /// <summary>Op kinds with a Vulkan implementation.</summary>
    public static IEnumerable<OpKind> Implemented => Enumerable.Range(0, s_ops.Length).Where(i => s_ops[i] is not null).Select(i => (OpKind)i);

    private sealed class ViewOp : IVulkanOp
    {
        public static readonly ViewOp Instance = new();

        public OpKind[] Kinds => [OpKind.Reshape, OpKind.View, OpKind.Permute, OpKind.Transpose];

        public bool Supports(Tensor node, VulkanDevice device) => true;

        public void Record(VulkanRecorder r, Tensor node)
        {
        }
    }
}
