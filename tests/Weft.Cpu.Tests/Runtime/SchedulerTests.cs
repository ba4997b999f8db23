using System.Runtime.InteropServices;
using Weft.Core;
using static Weft.Cpu.Tests.Runtime.RuntimeTestUtil;

namespace Weft.Cpu.Tests.Runtime;

/// <summary>Device memory of the fake GPU: not host-visible, reachable only through Read/Write.</summary>
internal sealed class FakeGpuBufferType : BufferTypeBase
{
    public override string Name => "FakeGpu";
    public override long Alignment => 256;
    public override long MaxSize => 1L << 30;
    public override bool IsHost => false;
    protected override IBuffer AllocateCore(long size) => new FakeGpuBuffer(size, this);
}

internal sealed class FakeGpuBuffer(long size, IBufferType type) : IBuffer
{
    public readonly byte[] Bytes = new byte[size];
    public long Size => size;
    public nint HostPointer => 0;
    public IBufferType? BufferType => type;
    public void Write(long offset, ReadOnlySpan<byte> source) => source.CopyTo(Bytes.AsSpan((int)offset));
    public void Read(long offset, Span<byte> destination) => Bytes.AsSpan((int)offset, destination.Length).CopyTo(destination);
    public void Dispose()
    {
    }
}

/// <summary>A GPU-like device that supports only same-shape contiguous F32 Add and Mul.</summary>
internal sealed class FakeGpuDevice : IDevice
{
    public FakeGpuBufferType BufferType { get; } = new();
    public string Name => "FakeGpu";
    public string Description => "test device";
    public DeviceKind Kind => DeviceKind.GpuDiscrete;
    public DeviceMemory GetMemory() => new(1L << 30, 1L << 30);
    public bool Supports(Tensor node) =>
        node.Op is OpKind.Add or OpKind.Mul && node.Src[0] is Tensor a && node.Src[1] is Tensor b &&
        a.Type == DType.F32 && b.Type == DType.F32 && Tensor.SameShape(a, b) && a.IsContiguous && b.IsContiguous;
    public bool SupportsBufferType(IBufferType bufferType) => ReferenceEquals(bufferType, BufferType);
    public IBackend CreateBackend() => new FakeGpuBackend(this);
    public IBufferType DefaultBufferType => BufferType;
}

internal sealed class FakeGpuBackend(FakeGpuDevice device) : BackendBase
{
    public int NodesComputed;
    public override string Name => "FakeGpu";
    public override IDevice Device => device;

    protected override Status ComputeCore(Graph graph)
    {
        foreach (Tensor n in graph.Nodes)
        {
            if (n.IsView)
            {
                continue;
            }
            if (!device.Supports(n))
            {
                return Status.Failed;
            }
            Span<float> a = Floats(n.Src[0]!), b = Floats(n.Src[1]!), d = Floats(n);
            for (int i = 0; i < d.Length; i++)
            {
                d[i] = n.Op == OpKind.Add ? a[i] + b[i] : a[i] * b[i];
            }
            NodesComputed++;
        }
        return Status.Success;
    }

    private static Span<float> Floats(Tensor t)
    {
        var buf = t.Buffer as FakeGpuBuffer ?? throw new InvalidOperationException($"'{t.Name}' is not in fake GPU memory");
        return MemoryMarshal.Cast<byte, float>(buf.Bytes.AsSpan((int)t.Offset, (int)t.ByteSize));
    }

    protected override void SynchronizeCore()
    {
    }
}

public class SchedulerTests
{
    private readonly List<IDisposable> _owned = new();

    [TearDown]
    public void TearDown()
    {
        foreach (IDisposable d in _owned)
        {
            d.Dispose();
        }
        _owned.Clear();
    }

    private sealed record Model(Graph Graph, Tensor X, Tensor Y, Tensor Z, Tensor M, Tensor S);

    // x → MatMul(w) = y (CPU) → Add(y, y2) = z, Mul(z, z) = m (GPU) → Scale = s (CPU)
    private Model Build(float[] wv, float[] xv)
    {
        Tensor w = HostLeaf(_owned, wv, 8, 6, "w", TensorFlags.Weight);
        var g = new GraphBuilder();
        Tensor x = g.Input(DType.F32, 8, 3, name: "x");
        Tensor y = g.MatMul(w, x, "y");                    // [6, 3]
        Tensor y2 = g.Scale(y, 3f, "y2");
        Tensor z = g.Add(y, y2, "z");
        Tensor m = g.Mul(z, z, "m");
        Tensor s = g.Scale(m, 0.25f, "s");
        return new Model(g.Build(s), x, y, z, m, s);
    }

    [Test]
    public void SplitsByBackendCopiesAcrossAndMatchesCpuOnly()
    {
        float[] wv = Random(48, 11), xv = Random(24, 12);
        var gpuDevice = new FakeGpuDevice();
        using var gpu = (FakeGpuBackend)gpuDevice.CreateBackend();
        using var cpu = new CpuBackend(2);
        using var sched = new Scheduler(gpu, cpu);
        Model mod = Build(wv, xv);
        Assert.That(sched.Allocate(mod.Graph), Is.EqualTo(Status.Success));
        mod.X.SetData(xv);   // inputs land in CPU memory, so the host writes them directly
        Assert.That(sched.Compute(mod.Graph), Is.EqualTo(Status.Success));

        Assert.That(sched.BackendOf(mod.Y), Is.SameAs(cpu));
        Assert.That(sched.BackendOf(mod.Z), Is.SameAs(gpu));
        Assert.That(sched.BackendOf(mod.M), Is.SameAs(gpu));
        Assert.That(sched.BackendOf(mod.S), Is.SameAs(cpu));
        Assert.That(sched.Splits.Select(s => s.Backend.Name), Is.EqualTo(new[] { "CPU", "FakeGpu", "CPU" }));
        Assert.That(sched.Splits[1].Inputs.Select(c => c.Source.Name), Is.EquivalentTo(new[] { "y", "y2" }));
        Assert.That(sched.Splits[2].Inputs.Select(c => c.Source.Name), Is.EqualTo(new[] { "m" }));
        Assert.That(sched.Splits[1].Inputs.All(c => c.Copy.Buffer is FakeGpuBuffer));
        Assert.That(mod.Z.Buffer, Is.InstanceOf<FakeGpuBuffer>());
        Assert.That(gpu.NodesComputed, Is.EqualTo(2));
        Assert.That(mod.Z.Src[0], Is.SameAs(mod.Y), "sources are restored after the split ran");

        using var cpuOnly = new CpuBackend(1);
        Model reference = Build(wv, xv);
        using var refSched = new Scheduler(cpuOnly);
        refSched.Allocate(reference.Graph);
        reference.X.SetData(xv);
        Assert.That(refSched.Compute(reference.Graph), Is.EqualTo(Status.Success));
        Assert.That(refSched.Splits, Has.Count.EqualTo(1));
        float[] expected = reference.S.ToFloatArray();
        Assert.That(mod.S.ToFloatArray(), Is.EqualTo(expected).Within(1e-5f));
        Assert.That(mod.M.ToFloatArray(), Is.EqualTo(reference.M.ToFloatArray()).Within(1e-5f), "GPU-resident tensor read back through IBuffer.Read");

        // Second evaluation with new input: copies are refreshed.
        float[] xv2 = Random(24, 13);
        mod.X.SetData(xv2);
        reference.X.SetData(xv2);
        sched.Compute(mod.Graph);
        refSched.Compute(reference.Graph);
        Assert.That(mod.S.ToFloatArray(), Is.EqualTo(reference.S.ToFloatArray()).Within(1e-5f));
    }

    [Test]
    public void NodesGoWhereTheirWeightLivesWhenThatBackendSupportsThem()
    {
        var gpuDevice = new FakeGpuDevice();
        using var gpu = (FakeGpuBackend)gpuDevice.CreateBackend();
        using var cpu = new CpuBackend(1);
        IBuffer gpuWeights = gpuDevice.BufferType.Allocate(64);
        _owned.Add(gpuWeights);
        Tensor wg = Tensor.NewLeaf(DType.F32, 4, name: "wg");
        wg.Flags |= TensorFlags.Weight;
        wg.Buffer = gpuWeights;
        gpuWeights.Write(0, MemoryMarshal.AsBytes(new float[] { 1, 2, 3, 4 }.AsSpan()));
        var g = new GraphBuilder();
        Tensor x = g.Input(DType.F32, 4, name: "x");
        Tensor sum = g.Add(wg, x, "sum");          // GPU weight, GPU supports Add → GPU although the CPU comes first
        Tensor scaled = g.Scale(wg, 2f, "scaled");  // GPU cannot Scale → CPU, with a copy of the weight
        Tensor both = g.Add(g.Scale(sum, 1f, "sum1"), scaled, "both");
        Graph graph = g.Build(both);
        using var sched = new Scheduler(cpu, gpu);
        sched.Allocate(graph);
        x.SetData([10, 20, 30, 40]);
        Assert.That(sched.Compute(graph), Is.EqualTo(Status.Success));
        Assert.That(sched.BackendOf(sum), Is.SameAs(gpu));
        Assert.That(sched.BackendOf(scaled), Is.SameAs(cpu));
        Assert.That(sched.BackendOf(both), Is.SameAs(cpu), "no weight, CPU has priority");
        Assert.That(sched.Splits.SelectMany(s => s.Inputs).Select(c => c.Source.Name), Is.EquivalentTo(new[] { "x", "wg", "sum" }));
        Assert.That(both.ToFloatArray(), Is.EqualTo(new[] { 13f, 26f, 39f, 52f }));
    }

    [Test]
    public void NodeNoBackendSupportsIsReportedByName()
    {
        var gpuDevice = new FakeGpuDevice();
        using var gpu = gpuDevice.CreateBackend();
        using var sched = new Scheduler(gpu);
        var g = new GraphBuilder();
        Tensor x = g.Input(DType.F32, 4, name: "x");
        var e = Assert.Throws<NotSupportedException>(() => sched.Allocate(g.Build(g.Silu(x, "act"))))!;
        Assert.That(e.Message, Does.Contain("'act'").And.Contain("Silu").And.Contain("FakeGpu"));
    }

    [Test]
    public void ConstructorValidates()
    {
        using var cpu = new CpuBackend(1);
        Assert.Throws<ArgumentException>(() => new Scheduler());
        Assert.Throws<ArgumentException>(() => new Scheduler(cpu, cpu));
        Assert.Throws<ArgumentException>(() => new Scheduler(cpu, null!));
    }
}
