using Weft.Core;

namespace Weft.Vulkan;

/// <summary>
/// <c>WEFT_VULKAN_CHECK=1</c>: every node is submitted on its own, then recomputed on the CPU device of
/// <see cref="BackendRegistry.Default"/> from the same (Vulkan-computed) inputs; the first node whose result diverges
/// (NMSE above 1e-4, or above <c>WEFT_VULKAN_CHECK_NMSE</c> when set, or a non-finite value) is reported on stderr and in
/// <see cref="VulkanBackend.FirstDivergence"/>.
/// Nodes that write into another tensor (Cpy, SetRows) are executed but not compared.
/// </summary>
public sealed unsafe partial class VulkanBackend
{
    private static readonly bool s_check = Environment.GetEnvironmentVariable("WEFT_VULKAN_CHECK") == "1";

    // The NMSE above which a node diverges: WEFT_VULKAN_CHECK_NMSE (e.g. 1e-10 to find where float summation order is
    // not the only difference), 1e-4 by default.
    private static readonly double s_checkNmse =
        double.TryParse(Environment.GetEnvironmentVariable("WEFT_VULKAN_CHECK_NMSE"), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double v) && v > 0 ? v : 1e-4;
    private IBackend? _checkCpu;

    /// <summary>With <c>WEFT_VULKAN_CHECK=1</c>: the first node that diverged from the CPU ("name (op): NMSE x"), or null.</summary>
    public string? FirstDivergence { get; private set; }

    /// <summary>Nodes compared with the CPU so far under <c>WEFT_VULKAN_CHECK=1</c>.</summary>
    public int CheckedNodes { get; private set; }

    private bool CheckEnabled => s_check || ForceCheck;

    /// <summary>
    /// The NMSE above which the per-node check reports a node: <c>WEFT_VULKAN_CHECK_NMSE</c> when set, else 1e-4. Set
    /// it to e.g. 1e-10 to find nodes that differ from the CPU by more than float summation order.
    /// </summary>
    public double CheckMaxNmse { get; set; } = s_checkNmse;

    /// <summary>Turns the per-node CPU check on for this backend regardless of <c>WEFT_VULKAN_CHECK</c> (tests).</summary>
    public bool ForceCheck { get; set; }

    private Status ComputeChecked(Graph graph)
    {
        foreach (Tensor n in graph.Nodes)
        {
            if (VulkanOpTable.IsView(n.Op))
            {
                continue;
            }
            Status st = ComputeNodes([n]);
            if (st != Status.Success)
            {
                return st;
            }
            if (n.ViewSrc is not null || FirstDivergence is not null)
            {
                continue;
            }
            string? diff = CompareWithCpu(n);
            CheckedNodes++;
            if (diff is not null)
            {
                FirstDivergence = diff;
                Console.Error.WriteLine($"WEFT_VULKAN_CHECK: first diverging node: {diff}");
            }
        }
        return Status.Success;
    }

    private IBackend CheckCpu()
    {
        if (_checkCpu is null)
        {
            IDevice cpu = BackendRegistry.Default.Find("CPU")?.Devices.FirstOrDefault()
                ?? throw new InvalidOperationException("WEFT_VULKAN_CHECK=1 needs the CPU backend (Weft.Cpu) next to Weft.Vulkan.");
            _checkCpu = cpu.CreateBackend();
        }
        return _checkCpu;
    }

    // Copies a Vulkan tensor (its whole strided extent) into a host leaf of the same layout.
    private (Tensor Leaf, IBuffer Memory) ToHost(Tensor t, IBufferType host)
    {
        long extent = Math.Max(VulkanRecorder.Extent(t), 1);
        IBuffer mem = host.Allocate(extent);
        var leaf = new Tensor { Type = t.Type, Ne = t.Ne, Nb = t.Nb, Name = t.Name, Buffer = mem, Offset = 0, Data = mem.HostPointer };
        if (t.Buffer is VulkanBuffer vb)
        {
            vb.Read(t.Offset, new Span<byte>((void*)mem.HostPointer, (int)VulkanRecorder.Extent(t)));
        }
        else if (t.Data != 0)
        {
            new ReadOnlySpan<byte>((void*)t.Data, (int)VulkanRecorder.Extent(t)).CopyTo(new Span<byte>((void*)mem.HostPointer, (int)VulkanRecorder.Extent(t)));
        }
        return (leaf, mem);
    }

    private string? CompareWithCpu(Tensor n)
    {
        IBackend cpu = CheckCpu();
        IBufferType host = cpu.Device.DefaultBufferType;
        var owned = new List<IBuffer>();
        try
        {
            var clone = new Tensor { Type = n.Type, Op = n.Op, Params = n.Params, Name = n.Name + " (cpu check)" };
            var leaves = new List<Tensor>();
            for (int j = 0; j < Tensor.MaxSrc; j++)
            {
                if (n.Src[j] is Tensor s)
                {
                    var (leaf, mem) = ToHost(s, host);
                    owned.Add(mem);
                    clone.Src[j] = leaf;
                    leaves.Add(leaf);
                }
            }
            var (shape, outMem) = ToHost(n, host);
            owned.Add(outMem);
            clone.Ne = shape.Ne;
            clone.Nb = shape.Nb;
            clone.Buffer = outMem;
            clone.Data = outMem.HostPointer;
            if (!cpu.Device.Supports(clone))
            {
                return null;
            }
            if (cpu.Compute(Graph.FromParts([clone], leaves, [clone])) != Status.Success)
            {
                return $"{n.Name} ({n.Op}): the CPU could not compute it";
            }
            var (gpu, gpuMem) = ToHost(n, host);
            owned.Add(gpuMem);
            double err = 0, norm = 0;
            for (long i3 = 0; i3 < n.Ne[3]; i3++)
            for (long i2 = 0; i2 < n.Ne[2]; i2++)
            for (long i1 = 0; i1 < n.Ne[1]; i1++)
            {
                long off = i1 * n.Nb[1] + i2 * n.Nb[2] + i3 * n.Nb[3];
                var a = new float[n.Ne[0]];
                var b = new float[n.Ne[0]];
                Weft.Core.Quants.Dequantize.Row(n.Type, new ReadOnlySpan<byte>((byte*)clone.Data + off, (int)n.RowBytes), a);
                Weft.Core.Quants.Dequantize.Row(n.Type, new ReadOnlySpan<byte>((byte*)gpu.Data + off, (int)n.RowBytes), b);
                for (int i = 0; i < a.Length; i++)
                {
                    if (!float.IsFinite(b[i]) && float.IsFinite(a[i]))
                    {
                        return $"{n.Name} ({n.Op}, {n.Traits.Name} {n.Ne}): Vulkan gives {b[i]} at ({i}, {i1}, {i2}, {i3}), the CPU {a[i]}";
                    }
                    err += (double)(a[i] - b[i]) * (a[i] - b[i]);
                    norm += (double)a[i] * a[i];
                }
            }
            double nmse = err / Math.Max(norm, 1e-30);
            if (nmse <= CheckMaxNmse)
            {
                return null;
            }
            string sources = string.Join(", ", leaves.Select(s => $"{s.Name} {s.Traits.Name} {s.Ne} nb {s.Nb}"));
            return $"{n.Name} ({n.Op}, {n.Traits.Name} {n.Ne}; sources {sources}): NMSE {nmse:E2} against the CPU";
        }
        finally
        {
            foreach (IBuffer b in owned)
            {
                b.Dispose();
            }
        }
    }
}
