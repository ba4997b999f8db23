using Weft.Core;

namespace Weft.Vulkan.Ops;

/// <summary>
/// PairwiseDistance (squared L2 or inner-product distance) of F32 columns: shaders/pairwise_distance.comp, 64 × 64
/// output tiles through shared memory. A src0 (base vectors) that spans several allocations of its buffer is
/// dispatched per allocation, by columns, the way matmul weights are; a column straddling a boundary is gathered first.
/// </summary>
internal sealed class PairwiseDistanceOp : IVulkanOp
{
    /// <summary>Output tile edge of one workgroup (both dimensions).</summary>
    public const int Tile = 64;

    public OpKind[] Kinds => [OpKind.PairwiseDistance];

    public bool Supports(Tensor node, VulkanDevice device)
    {
        Tensor? a = node.Src[0], b = node.Src[1];
        if (!OpChecks.F32(node) || !OpChecks.F32(a) || !OpChecks.F32(b) || Shader(node) is null)
        {
            return false;
        }
        long maxGroups = Math.Min(device.Info.MaxComputeWorkGroupCountX, 65535u);
        return a!.Nb[0] == sizeof(float) && b!.Nb[0] == sizeof(float) && node.Nb[0] == sizeof(float) &&
            a.Ne[0] == b.Ne[0] && a.Ne[2] == 1 && a.Ne[3] == 1 && b.Ne[2] == 1 && b.Ne[3] == 1 &&
            node.Ne[0] == a.Ne[1] && node.Ne[1] == b.Ne[1] && node.Ne[2] == 1 && node.Ne[3] == 1 &&
            (a.Ne[1] + Tile - 1) / Tile <= maxGroups && (b.Ne[1] + Tile - 1) / Tile <= maxGroups &&
            OpChecks.FitsU32(a) && OpChecks.FitsU32(b) && OpChecks.FitsU32(node);
    }

    private static string? Shader(Tensor node) => node.Params[0] switch
    {
        (int)PairwiseMetric.L2Squared => "pairwise_distance_f32_l2",
        (int)PairwiseMetric.InnerProduct => "pairwise_distance_f32_ip",
        _ => null,
    };

    public void Record(VulkanRecorder r, Tensor node)
    {
        Tensor a = node.Src[0]!;
        if (VulkanRecorder.FitsOneChunk(a))
        {
            RecordPart(r, node, a, node);
            return;
        }
        var buf = (VulkanBuffer)a.Buffer!;
        long cols = a.Ne[1], colBytes = a.Ne[0] * sizeof(float);
        long c0 = 0;
        while (c0 < cols)
        {
            int chunk = buf.ChunkOf(a.Offset + c0 * a.Nb[1], colBytes);
            if (chunk < 0)
            {
                VulkanBuffer scratch = r.Gather(buf, a.Offset + c0 * a.Nb[1], colBytes);
                RecordPart(r, node, Part(a, c0, 1, scratch, 0), DstPart(node, c0, 1));
                c0++;
                continue;
            }
            long c1 = c0 + 1;
            while (c1 < cols && buf.ChunkOf(a.Offset + c1 * a.Nb[1], colBytes) == chunk)
            {
                c1++;
            }
            RecordPart(r, node, Part(a, c0, c1 - c0, buf, a.Offset + c0 * a.Nb[1]), DstPart(node, c0, c1 - c0));
            c0 = c1;
        }
    }

    private static Tensor Part(Tensor a, long c0, long count, IBuffer buffer, long offset)
    {
        Long4 ne = a.Ne;
        ne[1] = count;
        return new Tensor { Type = a.Type, Ne = ne, Nb = a.Nb, Buffer = buffer, Offset = offset, Name = $"{a.Name}[columns {c0}..{c0 + count})" };
    }

    private static Tensor DstPart(Tensor node, long c0, long count)
    {
        Long4 ne = node.Ne;
        ne[0] = count;
        return new Tensor { Type = node.Type, Ne = ne, Nb = node.Nb, Buffer = node.Buffer, Offset = node.Offset + c0 * node.Nb[0], Name = node.Name };
    }

    private static void RecordPart(VulkanRecorder r, Tensor node, Tensor a, Tensor dst)
    {
        var pc = new PushConstants();
        r.Bind(0, a, ref pc);
        r.Bind(1, node.Src[1]!, ref pc);
        r.Bind(3, dst, ref pc);
        r.Dispatch(Shader(node)!, 256, (uint)((a.Ne[1] + Tile - 1) / Tile), (uint)((dst.Ne[1] + Tile - 1) / Tile), 1, pc);
    }
}
