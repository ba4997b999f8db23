using Weft.Core;
using Weft.Cpu;

namespace Weft.Vulkan.Tests;

/// <summary>
/// PairwiseDistance on Vulkan against the CPU op (odd and even dimensions and counts, both metrics, tiles with ragged
/// edges), with a base above the allocation cap, and with integer-valued vectors where both must agree exactly.
/// No Vulkan device: Inconclusive, or a failure under CI=true.
/// </summary>
public sealed class DistanceOpTests
{
    private CpuBackend? _cpu;
    private IBackend? _gpu;

    [OneTimeSetUp]
    public void SetUp()
    {
        _cpu = new CpuBackend(2);
        _gpu = VulkanTestDevice.CreateBackendOrSkip();
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        _gpu?.Dispose();
        _cpu?.Dispose();
    }

    private static float[] Random(int n, int seed, float scale)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();
    }

    private static float[] Run(IBackend[] backends, float[] a, float[] b, int d, int na, int nb, PairwiseMetric metric, IBackend? expectOn)
    {
        var g = new GraphBuilder();
        Tensor ta = g.Input(DType.F32, d, na, name: "a");
        Tensor tb = g.Input(DType.F32, d, nb, name: "b");
        Tensor y = g.PairwiseDistance(ta, tb, metric, "dist");
        Graph graph = g.Build(y);
        using var sched = new Scheduler(backends);
        Assert.That(sched.Allocate(graph), Is.EqualTo(Status.Success));
        ta.SetData(a);
        tb.SetData(b);
        Assert.That(sched.Compute(graph), Is.EqualTo(Status.Success));
        if (expectOn is not null)
        {
            Assert.That(sched.BackendOf(y), Is.SameAs(expectOn), "the distance node must run on Vulkan");
        }
        return y.ToFloatArray();
    }

    private static IEnumerable<TestCaseData> Shapes()
    {
        int[][] shapes = [[1, 1, 1], [7, 5, 3], [16, 64, 64], [127, 130, 65], [128, 129, 17], [129, 200, 1], [33, 1000, 7], [960, 70, 9]];
        foreach (int[] s in shapes)
        {
            foreach (PairwiseMetric m in new[] { PairwiseMetric.L2Squared, PairwiseMetric.InnerProduct })
            {
                yield return new TestCaseData(s[0], s[1], s[2], m);
            }
        }
    }

    [TestCaseSource(nameof(Shapes))]
    public void VulkanMatchesCpu(int d, int na, int nb, PairwiseMetric metric)
    {
        float[] a = Random(d * na, 31, 2f), b = Random(d * nb, 32, 2f);
        float[] cpu = Run([_cpu!], a, b, d, na, nb, metric, null);
        float[] gpu = Run([_gpu!, _cpu!], a, b, d, na, nb, metric, _gpu);
        BackendOpTests.AssertClose(gpu.Select(v => (double)v).ToArray(), cpu.Select(v => (double)v).ToArray(), 1e-7, $"Vulkan vs CPU {metric} d={d} {na}x{nb}");
        // Element-wise: two F32 summations of d terms in different orders typically differ by about √d·eps·Σ|term|;
        // allow four times that, with Σ|term| computed in double for each pair.
        for (int j = 0; j < nb; j++)
        {
            for (int i = 0; i < na; i++)
            {
                double mag = 0;
                for (int k = 0; k < d; k++)
                {
                    double x = a[i * d + k], y = b[j * d + k];
                    mag += metric == PairwiseMetric.L2Squared ? (x - y) * (x - y) : Math.Abs(x * y);
                }
                double bound = 4 * Math.Sqrt(d) * 6e-8 * mag + 1e-7;
                Assert.That(Math.Abs(gpu[j * na + i] - cpu[j * na + i]), Is.LessThanOrEqualTo(bound), $"element ({i}, {j})");
            }
        }
    }

    [Test]
    public void IntegerVectorsGiveIdenticalDistances()
    {
        // SIFT-like data: integers 0..255, so every partial sum is an exact float and the order of summation cannot matter.
        const int d = 128, na = 300, nb = 70;
        var rng = new Random(5);
        float[] a = Enumerable.Range(0, d * na).Select(_ => (float)rng.Next(256)).ToArray();
        float[] b = Enumerable.Range(0, d * nb).Select(_ => (float)rng.Next(256)).ToArray();
        float[] cpu = Run([_cpu!], a, b, d, na, nb, PairwiseMetric.L2Squared, null);
        float[] gpu = Run([_gpu!, _cpu!], a, b, d, na, nb, PairwiseMetric.L2Squared, _gpu);
        Assert.That(gpu, Is.EqualTo(cpu));
    }

    [Test]
    public void BaseAboveTheAllocationCapIsSplitByColumns()
    {
        VulkanDevice shared = VulkanTestDevice.DeviceOrSkip();
        var device = new VulkanDevice(shared.Info, 1L << 20);
        const int d = 100, na = 3000, nb = 5;   // 1.2 MB of base over 1 MiB allocations; 400-byte columns straddle the boundary
        float[] a = Random(d * na, 41, 1f), b = Random(d * nb, 42, 1f);
        using IBuffer abuf = device.DefaultBufferType.Allocate((long)d * na * 4);
        Assert.That(((VulkanBuffer)abuf).Chunks.Length, Is.EqualTo(2), "the base must be split over two allocations");
        abuf.Write(0, System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()));
        Tensor ta = Tensor.NewLeaf(DType.F32, d, na, name: "base");
        ta.Flags |= TensorFlags.Weight;
        ta.Buffer = abuf;
        var g = new GraphBuilder();
        Tensor tb = g.Input(DType.F32, d, nb, name: "q");
        Tensor y = g.PairwiseDistance(ta, tb, PairwiseMetric.L2Squared, "dist");
        Graph graph = g.Build(y);
        using IBackend gpu = device.CreateBackend();
        float[] got;
        using (var sched = new Scheduler(gpu, _cpu!))
        {
            Assert.That(sched.Allocate(graph), Is.EqualTo(Status.Success));
            Assert.That(sched.BackendOf(y), Is.SameAs(gpu));
            tb.SetData(b);
            Assert.That(sched.Compute(graph), Is.EqualTo(Status.Success));
            got = y.ToFloatArray();
        }
        float[] cpu = Run([_cpu!], a, b, d, na, nb, PairwiseMetric.L2Squared, null);
        BackendOpTests.AssertClose(got.Select(v => (double)v).ToArray(), cpu.Select(v => (double)v).ToArray(), 1e-7, "Vulkan (split base) vs CPU");
    }
}
