using Weft.Core;

namespace Weft.Vulkan.Tests;

/// <summary>The Vulkan device of a test run, or Inconclusive (a failure under CI=true) with the registry's reason.</summary>
public static class VulkanTestDevice
{
    public static VulkanDevice DeviceOrSkip()
    {
        var reg = new VulkanBackendRegistry();
        if (reg.VulkanDevices.Count == 0)
        {
            if (Environment.GetEnvironmentVariable("CI") == "true")
            {
                Assert.Fail($"CI=true but no Vulkan device: {reg.Status}");
            }
            Assert.Inconclusive(reg.Status);
        }
        return reg.VulkanDevices[0];
    }

    public static IBackend CreateBackendOrSkip() => DeviceOrSkip().CreateBackend();
}
