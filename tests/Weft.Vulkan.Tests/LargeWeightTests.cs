using Weft.Core;
using Weft.Cpu;

namespace Weft.Vulkan.Tests;

/// <summary>With allocations capped at 16 MiB (as WEFT_VULKAN_MAX_ALLOC=16777216 does), a larger weight still multiplies.</summary>
public sealed class LargeWeightTests
{
    [TestCase(false)]
    [TestCase(true)]
    public void MatMulWithAWeightAboveTheAllocationCapMatchesTheCpu(bool staging)
    {
        VulkanDevice shared = VulkanTestDevice.DeviceOrSkip();
        var device = new VulkanDevice(shared.Info, 16L << 20, staging);
        const int k = 2000, rows = 2200, cols = 2;  // 17.6 MB of F32 weight; 8000-byte rows straddle the 16 MiB boundary
        var rng = new Random(7);
        float[] wv = Enumerable.Range(0, k * rows).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        float[] xv = Enumerable.Range(0, k * cols).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();

        using IBuffer wbuf = device.DefaultBufferType.Allocate((long)k * rows * 4);
        Assert.That(((VulkanBuffer)wbuf).Chunks.Length, Is.EqualTo(2), "the weight must be split over two allocations");
        wbuf.Write(0, System.Runtime.InteropServices.MemoryMarshal.AsBytes(wv.AsSpan()));
        Tensor w = Tensor.NewLeaf(DType.F32, k, rows, name: "w");
        w.Flags |= TensorFlags.Weight;
        w.Buffer = wbuf;
        var g = new GraphBuilder();
        Tensor x = g.Input(DType.F32, k, cols, name: "x");
        Tensor y = g.MatMul(w, x, "y");
        Graph graph = g.Build(y);
        using var cpu = new CpuBackend(2);
        using IBackend gpu = device.CreateBackend();
        float[] got;
        using (var sched = new Scheduler(gpu, cpu))
        {
            Assert.That(sched.Allocate(graph), Is.EqualTo(Status.Success));
            Assert.That(sched.BackendOf(y), Is.SameAs(gpu));
            x.SetData(xv);
            Assert.That(sched.Compute(graph), Is.EqualTo(Status.Success));
            got = y.ToFloatArray();
        }

        var g2 = new GraphBuilder();
        Tensor w2 = g2.Input(DType.F32, k, rows, name: "w");
        Tensor x2 = g2.Input(DType.F32, k, cols, name: "x");
        Tensor y2 = g2.MatMul(w2, x2, "y");
        Graph graph2 = g2.Build(y2);
        using var cpuSched = new Scheduler(cpu);
        Assert.That(cpuSched.Allocate(graph2), Is.EqualTo(Status.Success));
        w2.SetData(wv);
        x2.SetData(xv);
        Assert.That(cpuSched.Compute(graph2), Is.EqualTo(Status.Success));
        BackendOpTests.AssertClose(got.Select(v => (double)v).ToArray(), y2.ToFloatArray().Select(v => (double)v).ToArray(), 1e-7, "Vulkan (split weight) vs CPU");
    }
}
