using Weft.Core;

namespace Weft.Vulkan.Ops;

/// <summary>
/// MatMul with F32/F16/Q8_0/Q4_0/Q4_K/Q6_K weights and F32 activations: shaders/mul_mat_vec.comp (decode) and
/// shaders/mul_mm.comp (prompt batches).
/// </summary>
/// <remarks>
/// For every weight type but F32 the activations first go through shaders/quantize_act.comp, which converts them to
/// the format the CPU (like ggml's CPU backend) dots that weight type with (F16-rounded values for F16; Q8_0 for
/// Q8_0/Q4_0; Q8_K for the K-quants), bit for bit, and writes the dequantized values into a scratch buffer. Since
/// <c>d_w d_a sum(q_w q_a) = sum((d_w q_w)(d_a q_a))</c>, the F32-activation shaders then give the CPU's products up to
/// float summation order (node NMSE ~1e-13 instead of ~1e-5). Whole models still differ from the CPU a little: an
/// activation that the other ops leave one ulp away from the CPU's value can land on the other side of a Q8 rounding
/// boundary, a one-step jump that later layers carry on (the CPU's own legacy and tiled kernels differ the same way),
/// so greedy ids agree except at near-ties. <c>WEFT_VULKAN_F32_ACTIVATIONS=1</c> skips the round
/// trip (F32 activations: the exact product with the dequantized weights). Consecutive matmuls of one input (Q/K/V,
/// gate/up) reuse one conversion.
/// </remarks>
internal sealed class MatMulOp : IVulkanOp
{
    /// <summary>Threads per dst element of the matrix × vector kernel.</summary>
    public const uint Workgroup = 32;

    /// <summary>From this many activation columns on, the tiled matrix × matrix kernel (16 × 16 tiles) is used.</summary>
    public const long TiledFromColumns = 8;

    public OpKind[] Kinds => [OpKind.MatMul];

    /// <summary>True when <c>WEFT_VULKAN_F32_ACTIVATIONS=1</c>: the activations reach the shaders unconverted.</summary>
    public static bool F32Activations => Environment.GetEnvironmentVariable("WEFT_VULKAN_F32_ACTIVATIONS") == "1";

    /// <summary>
    /// The quantize_act.comp variant that converts activations for weights of type <paramref name="weight"/> and its
    /// block length, or null (F32 weights take F32 activations).
    /// </summary>
    public static (string Shader, int Block)? ActivationConversion(DType weight) => weight switch
    {
        DType.F16 => ("quantize_act_f16", 1),
        DType.Q8_0 or DType.Q4_0 => ("quantize_act_q8_0", 32),
        DType.Q4_K or DType.Q6_K => ("quantize_act_q8_k", 256),
        _ => null,
    };

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
        Tensor w = node.Src[0]!, x = node.Src[1]!;
        (string Shader, int Block)? conv = F32Activations ? null : ActivationConversion(w.Type);
        if (conv is not { } c)
        {
            RecordWeight(r, node, w, x, node);
            return;
        }
        long k = x.Ne[0];
        long cap = r.Device.MaxAllocation & ~255L;
        if (k * sizeof(float) * x.RowCount <= cap)
        {
            RecordWeight(r, node, w, Convert(r, x, c.Shader, c.Block, reuse: true), node);
            return;
        }
        // The converted activations exceed one allocation: convert and multiply a slice of columns at a time.
        long cols = cap / (k * sizeof(float));
        if (cols == 0)
        {
            throw new InvalidOperationException($"MatMul '{node.Name}': one converted activation row of {k} F32 values exceeds the {cap}-byte allocation limit of {r.Device.Name}.");
        }
        long r2 = x.Ne[2] / w.Ne[2], r3 = x.Ne[3] / w.Ne[3];
        for (long i3 = 0; i3 < x.Ne[3]; i3++)
        {
            for (long i2 = 0; i2 < x.Ne[2]; i2++)
            {
                Tensor wSlice = Slice(w, Long4.Of(w.Ne[0], w.Ne[1]), w.Offset + i2 / r2 * w.Nb[2] + i3 / r3 * w.Nb[3], w.Name);
                for (long c0 = 0; c0 < x.Ne[1]; c0 += cols)
                {
                    long n = Math.Min(cols, x.Ne[1] - c0);
                    Tensor xs = Slice(x, Long4.Of(k, n), x.Offset + c0 * x.Nb[1] + i2 * x.Nb[2] + i3 * x.Nb[3], $"{x.Name}[cols {c0}..{c0 + n}, {i2}, {i3}]");
                    Tensor ds = Slice(node, Long4.Of(node.Ne[0], n), node.Offset + c0 * node.Nb[1] + i2 * node.Nb[2] + i3 * node.Nb[3], node.Name);
                    RecordWeight(r, node, wSlice, Convert(r, xs, c.Shader, c.Block, reuse: false), ds);
                }
            }
        }
    }

    // What the recorder's scratch buffer holds after a conversion.
    private sealed record Converted(Tensor Source, string Shader, Tensor Result);

    // Converts x (F32 rows, any strides) with the given quantize_act variant into the recorder's scratch buffer,
    // contiguous; returns the converted tensor. With reuse, the conversion of the same computed tensor made by a previous
    // node is taken when the scratch buffer still holds it.
    private static Tensor Convert(VulkanRecorder r, Tensor x, string shader, int block, bool reuse)
    {
        reuse &= x.Op != OpKind.None && x.ViewSrc is null;
        if (reuse && r.ScratchContent is Converted done && ReferenceEquals(done.Source, x) && done.Shader == shader)
        {
            return done.Result;
        }
        long bytes = x.Ne[0] * sizeof(float) * x.RowCount;
        VulkanBuffer scratch = r.Scratch(Math.Max(bytes, sizeof(float)));
        var xq = new Tensor { Type = DType.F32, Ne = x.Ne, Buffer = scratch, Offset = 0, Name = $"{x.Name} ({shader})" };
        xq.SetContiguousStrides();
        var pc = new PushConstants();
        r.Bind(1, x, ref pc);
        r.Bind(3, xq, ref pc);
        r.DispatchElements(shader, x.Ne[0] / block * x.RowCount, pc);
        r.ScratchContent = reuse ? new Converted(x, shader, xq) : null;
        return xq;
    }

    private static Tensor Slice(Tensor t, Long4 ne, long offset, string name) =>
        new() { Type = t.Type, Ne = ne, Nb = t.Nb, Buffer = t.Buffer, Offset = offset, Name = name };

    // Records dst = w × x, splitting w by rows where it spans several allocations.
    private static void RecordWeight(VulkanRecorder r, Tensor node, Tensor w, Tensor x, Tensor dst)
    {
        if (VulkanRecorder.FitsOneChunk(w))
        {
            RecordPart(r, w, x, dst);
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
                RecordPart(r, Part(w, r0, 1, scratch, 0), x, DstPart(dst, r0, 1));
                r0++;
                continue;
            }
            long r1 = r0 + 1;
            while (r1 < rows && buf.ChunkOf(w.Offset + r1 * w.Nb[1], rowBytes) == c)
            {
                r1++;
            }
            RecordPart(r, Part(w, r0, r1 - r0, buf, w.Offset + r0 * w.Nb[1]), x, DstPart(dst, r0, r1 - r0));
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

    private static void RecordPart(VulkanRecorder r, Tensor w, Tensor x, Tensor dst)
    {
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
