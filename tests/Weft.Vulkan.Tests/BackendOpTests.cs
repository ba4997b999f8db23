using Weft.Core;
using Weft.Core.Quants;
using Weft.Cpu;

namespace Weft.Vulkan.Tests;

/// <summary>
/// The backend op suite (test-backend-ops style): every <see cref="OpCases"/> case on every backend. The CPU is
/// checked against <see cref="NaiveReference"/> (double precision); Vulkan is checked against the CPU backend, and
/// each case asserts that the node under test really ran on Vulkan. No Vulkan device: Inconclusive, or a failure
/// under CI=true (the CI image installs lavapipe).
/// </summary>
[TestFixture(BackendKind.Cpu)]
[TestFixture(BackendKind.Vulkan)]
public sealed class BackendOpTests
{
    private readonly BackendKind _kind;
    private CpuBackend? _cpu;
    private IBackend? _vulkan;

    public BackendOpTests(BackendKind kind)
    {
        _kind = kind;
    }

    public static IEnumerable<OpCase> Cases => OpCases.All();

    [OneTimeSetUp]
    public void SetUp()
    {
        _cpu = new CpuBackend(2);
        if (_kind == BackendKind.Vulkan)
        {
            _vulkan = VulkanTestDevice.CreateBackendOrSkip();
        }
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        _vulkan?.Dispose();
        _cpu?.Dispose();
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesReference(OpCase c)
    {
        const int seed = 1234;
        double[] cpu = Run(c, seed, vulkan: false, out _);
        if (_kind == BackendKind.Cpu)
        {
            var inputs = new OpInputs(seed);
            var g = new GraphBuilder();
            Tensor node = c.Build(g, inputs);
            double[] reference = NaiveReference.Evaluate(node, inputs);
            AssertClose(cpu, reference, c.MaxNmse, "CPU vs double reference");
            return;
        }
        double[] gpu = Run(c, seed, vulkan: true, out string ranOn);
        Assert.That(ranOn, Is.EqualTo(_vulkan!.Name), $"{c.Name}: the node under test ran on {ranOn}, not on Vulkan");
        AssertClose(gpu, cpu, c.MaxNmseVsCpu, "Vulkan vs CPU");
    }

    private double[] Run(OpCase c, int seed, bool vulkan, out string ranOn)
    {
        var inputs = new OpInputs(seed);
        var g = new GraphBuilder();
        Tensor node = c.Build(g, inputs);
        Graph graph = g.Build(node);
        using var sched = vulkan ? new Scheduler(_vulkan!, _cpu!) : new Scheduler(_cpu!);
        Assert.That(sched.Allocate(graph), Is.EqualTo(Status.Success));
        inputs.Upload();
        Assert.That(sched.Compute(graph), Is.EqualTo(Status.Success));
        ranOn = sched.BackendOf(node).Name;
        return ReadOutput(node);
    }

    public static unsafe double[] ReadOutput(Tensor t)
    {
        Assert.That(t.IsContiguous, $"output '{t.Name}' must be contiguous");
        var bytes = new byte[t.ByteSize];
        if (t.Data != 0)
        {
            new ReadOnlySpan<byte>((void*)t.Data, bytes.Length).CopyTo(bytes);
        }
        else
        {
            t.Buffer!.Read(t.Offset, bytes);
        }
        var f = new float[t.ElementCount];
        Dequantize.Row(t.Type, bytes, f);
        return f.Select(v => (double)v).ToArray();
    }

    public static void AssertClose(double[] actual, double[] expected, double maxNmse, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        double err = 0, norm = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            Assert.That(double.IsFinite(actual[i]), $"{what}: element {i} is {actual[i]}");
            err += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            norm += expected[i] * expected[i];
        }
        double nmse = err / Math.Max(norm, 1e-30);
        TestContext.Out.WriteLine($"{what}: NMSE {nmse:E2} (bound {maxNmse:E0}) over {actual.Length} values");
        Assert.That(nmse, Is.LessThanOrEqualTo(maxNmse), $"{what}: NMSE {nmse:E3} > {maxNmse:E0}");
    }
}
