using Weft.Core;

namespace Weft.Vulkan.Tests;

/// <summary>Device enumeration, WEFT_VULKAN_DEVICE and the registry's reasons.</summary>
public sealed class RegistryTests
{
    [TestCase("99")]
    [TestCase("-1")]
    [TestCase("gpu")]
    public void ABadDeviceIndexListsNoDeviceAndSaysWhy(string pick)
    {
        VulkanTestDevice.DeviceOrSkip();
        var (devices, status) = VulkanBackendRegistry.Find(pick);
        Assert.That(devices, Is.Empty);
        Assert.That(status, Does.Contain($"WEFT_VULKAN_DEVICE={pick}"));
    }

    [Test]
    public void APickedIndexKeepsOnlyThatDevice()
    {
        VulkanDevice first = VulkanTestDevice.DeviceOrSkip();
        var (devices, status) = VulkanBackendRegistry.Find(first.Info.Index.ToString());
        Assert.That(devices.Select(d => d.Info.Index), Is.EqualTo(new[] { first.Info.Index }));
        Assert.That(status, Does.StartWith("Vulkan: 1 device(s)"));
    }

    [Test]
    public void DevicesReportUsableLimitsAndALavapipeIsSoftware()
    {
        VulkanDevice d = VulkanTestDevice.DeviceOrSkip();
        Assert.That(d.Info.MaxStorageBufferRange, Is.GreaterThanOrEqualTo(1 << 27), "Vulkan guarantees at least 128 MiB");
        Assert.That(d.Info.MaxComputeSharedMemorySize, Is.GreaterThanOrEqualTo(16384));
        Assert.That(d.Info.MaxComputeWorkGroupInvocations, Is.GreaterThanOrEqualTo(128));
        Assert.That(d.Info.Heaps, Is.Not.Empty);
        Assert.That(d.MaxAllocation, Is.LessThanOrEqualTo(d.Info.MaxStorageBufferRange));
        if (d.Info.Name.Contains("llvmpipe", StringComparison.OrdinalIgnoreCase))
        {
            Assert.That(d.Kind, Is.EqualTo(DeviceKind.CpuSoftware));
        }
    }

    [Test]
    public void TheDefaultRegistryFindsVulkanBeforeTheCpu()
    {
        VulkanTestDevice.DeviceOrSkip();
        if (BackendRegistry.IsDisabledByEnvironment("Vulkan"))
        {
            Assert.Inconclusive("WEFT_DISABLE_VULKAN is set");
        }
        IReadOnlyList<IBackendRegistry> regs = BackendRegistry.Default.Registries;
        Assert.That(regs.Select(r => r.Name), Is.EqualTo(new[] { "Vulkan", "CPU" }));
        Assert.That(((VulkanBackendRegistry)regs[0]).Status, Does.StartWith("Vulkan: "));
    }

    // Staging: the path of discrete GPUs, whose device memory is not host-visible.
    [TestCase(false)]
    [TestCase(true)]
    public void BuffersRoundTripAcrossAllocationsAndRejectBadRanges(bool staging)
    {
        VulkanDevice shared = VulkanTestDevice.DeviceOrSkip();
        var device = new VulkanDevice(shared.Info, 1 << 16, staging);
        using IBuffer b = device.DefaultBufferType.Allocate(200_000);
        Assert.That(((VulkanBuffer)b).Chunks.Length, Is.EqualTo(4));
        var zeros = new byte[1000];
        b.Read(199_000, zeros);
        Assert.That(zeros, Is.All.EqualTo((byte)0), "new buffers are zero-filled");
        var data = new byte[150_000];
        new Random(3).NextBytes(data);
        b.Write(40_000, data);
        var back = new byte[data.Length];
        b.Read(40_000, back);
        Assert.That(back, Is.EqualTo(data));
        Assert.That(b.HostPointer, Is.EqualTo((nint)0));
        Assert.That(b.BufferType, Is.SameAs(device.DefaultBufferType));
        Assert.Throws<ArgumentOutOfRangeException>(() => b.Write(199_999, new byte[2]));
        Assert.Throws<ArgumentOutOfRangeException>(() => b.Read(-1, new byte[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => device.DefaultBufferType.Allocate(-5));
    }
}
