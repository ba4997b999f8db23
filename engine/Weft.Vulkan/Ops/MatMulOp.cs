using Weft.Core;

namespace Weft.Vulkan.Ops;

/// <summary>MatMul with F32/F16/Q8_0/Q4_0/Q4_K/Q6_K weights and F32 activations: shaders/mul_mat_vec.comp.</summary>
internal sealed class MatMulOp : IVulkanOp
{
    /// <summary>Threads per dst element of the matrix × vector kernel.</summary>
    public const uint Workgroup = 32;

    /// <summary>From this many activation columns on, the tiled matrix × matrix kernel (16 × 16 tiles) is used.</summary>
    public const long TiledFromColumns = 8;

    public OpKind[] Kinds => [OpKind.MatMul];

    public bool Supports(Tensor node, VulkanDevice device)
    {
        Tensor? w = node.Src[0], x = node.Src[1];
        uint max = device.Info.MaxComputeWorkGroupCountX;
        return OpChecks.F32(node) && w is not null && OpChecks.F32(x) && OpChecks.TypeSuffix(w.Type) is not null &&
            w.IsRowContiguous && x!.IsRowContiguous && w.Ne[0] == x.Ne[0] && x.Ne[2] % w.Ne[2] == 0 && x.Ne[3] % w.Ne[3] == 0 &&
            node.Ne[0] == w.Ne[1] && node.Ne[1] == x.Ne[1] && node.Ne[2] == x.Ne[2] && node.Ne[3] == x.Ne[3] &&
            w.Ne[1] <= max && x.Ne[1] <= 65535 && x.Ne[2] * x.Ne[3] <= 65535 &&
            OpChecks.FitsU32(w) && OpChecks.FitsU32(x) && OpChecks.FitsU32(node);
    }

    public void Record(VulkanRecorder r, Tensor node)
    {
        Tensor w = node.Src[0]!;
        if (VulkanRecorder.FitsOneChunk(w))
        {
            RecordPart(r, node, w, node);
            return;
        }
        // The weight spans several allocations: dispatch the rows of each allocation separately, and gather a row that
        // straddles a boundary into a scratch buffer first.
        if (w.Ne[2] != 1 || w.Ne[3] != 1)
        {
            throw new InvalidOperationException($"MatMul '{node.Name}': weight '{w.Name}' {w.Ne} crosses an allocation boundary; only 2D weights can be split.");
        }
        var buf = (VulkanBuffer)w.Buffer!;
        long rows = w.Ne[1], rowBytes = w.RowBytes;
        long r0 = 0;
        while (r0 < rows)
        {
            int c = buf.ChunkOf(w.Offset + r0 * w.Nb[1], rowBytes);
            if (c < 0)
            {
                VulkanBuffer scratch = r.Gather(buf, w.Offset + r0 * w.Nb[1], rowBytes);
                RecordPart(r, node, Part(w, r0, 1, scratch, 0), DstPart(node, r0, 1));
                r0++;
                continue;
            }
            long r1 = r0 + 1;
            while (r1 < rows && buf.ChunkOf(w.Offset + r1 * w.Nb[1], rowBytes) == c)
            {
                r1++;
            }
            RecordPart(r, node, Part(w, r0, r1 - r0, buf, w.Offset + r0 * w.Nb[1]), DstPart(node, r0, r1 - r0));
            r0 = r1;
        }
    }

    private static Tensor Part(Tensor w, long r0, long count, IBuffer buffer, long offset)
    {
        Long4 ne = w.Ne;
        ne[1] = count;
        return new Tensor { Type = w.Type, Ne = ne, Nb = w.Nb, Buffer = buffer, Offset = offset, Name = $"{w.Name}[rows {r0}..{r0 + count})" };
    }

    private static Tensor DstPart(Tensor node, long r0, long count)
    {
        Long4 ne = node.Ne;
        ne[0] = count;
        return new Tensor { Type = node.Type, Ne = ne, Nb = node.Nb, Buffer = node.Buffer, Offset = node.Offset + r0 * node.Nb[0], Name = node.Name };
    }

    private static void RecordPart(VulkanRecorder r, Tensor node, Tensor w, Tensor dst)
    {
        Tensor x = node.Src[1]!;
        var pc = new PushConstants();
        r.Bind(0, w, ref pc);
        r.Bind(1, x, ref pc);
        r.Bind(3, dst, ref pc);
        string type = OpChecks.TypeSuffix(w.Type)!;
        if (dst.Ne[1] >= TiledFromColumns)
        {
            r.Dispatch("mul_mm_" + type, 256, (uint)((dst.Ne[0] + 15) / 16), (uint)((dst.Ne[1] + 15) / 16), (uint)(dst.Ne[2] * dst.Ne[3]), pc);
        }
        else
        {
            r.Dispatch("mul_mat_vec_" + type, Workgroup, (uint)dst.Ne[0], (uint)dst.Ne[1], (uint)(dst.Ne[2] * dst.Ne[3]), pc);
        }
    }
}
