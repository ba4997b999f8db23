using Weft.Core;
using Weft.Cpu;

namespace Weft.Vulkan.Tests;

/// <summary>GPU timestamps per node (WEFT_VULKAN_PROFILE) and the per-node CPU check (WEFT_VULKAN_CHECK).</summary>
public sealed class ProfileAndCheckTests
{
    private static (Graph Graph, Tensor X, Tensor[] Nodes) SmallGraph()
    {
        var g = new GraphBuilder();
        Tensor x = g.Input(DType.F32, 64, 3, name: "x");
        Tensor w = g.Input(DType.F32, 64, 32, name: "w");
        Tensor n = g.RmsNorm(x, 1e-5f, "norm");
        Tensor m = g.MatMul(w, n, "proj");
        Tensor s = g.SoftMax(m, 0.5f, name: "probs");
        return (g.Build(s), x, [n, m, s]);
    }

    // The check run uses a device whose buffers go through staging copies (the discrete-GPU path).
    [TestCase(false)]
    [TestCase(true)]
    public void ProfileTimesEveryNodeAndCheckComparesEveryNode(bool check)
    {
        VulkanDevice shared = VulkanTestDevice.DeviceOrSkip();
        VulkanDevice device = check ? new VulkanDevice(shared.Info, forceStaging: true) : shared;
        using var gpu = (VulkanBackend)device.CreateBackend();
        using var cpu = new CpuBackend(2);
        gpu.Profile = !check;
        gpu.ForceCheck = check;
        var (graph, x, nodes) = SmallGraph();
        using var sched = new Scheduler(gpu, cpu);
        Assert.That(sched.Allocate(graph), Is.EqualTo(Status.Success));
        var rng = new Random(5);
        foreach (Tensor leaf in graph.Leaves)
        {
            leaf.SetData(Enumerable.Range(0, (int)leaf.ElementCount).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray());
        }
        Assert.That(sched.Compute(graph), Is.EqualTo(Status.Success));
        Assert.That(nodes.Select(sched.BackendOf), Is.All.SameAs(gpu));
        if (check)
        {
            Assert.That(gpu.CheckedNodes, Is.EqualTo(3));
            Assert.That(gpu.FirstDivergence, Is.Null);
            return;
        }
        if (device.Info.TimestampValidBits == 0)
        {
            Assert.Inconclusive($"{device.Name} has no timestamps on its compute queue");
        }
        Assert.That(gpu.LastProfile.Select(p => p.Name), Is.EqualTo(new[] { "norm", "proj", "probs" }));
        Assert.That(gpu.LastProfile.Select(p => p.Microseconds), Is.All.GreaterThanOrEqualTo(0.0));
        TestContext.Out.WriteLine(string.Join(", ", gpu.LastProfile.Select(p => $"{p.Name} {p.Microseconds:0.0} us")));
    }
}
