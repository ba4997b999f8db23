using Weft.Core;
using Weft.Vulkan;

namespace Weft.Tests;

/// <summary>
/// The Vulkan device of a test run (any device, lavapipe included), or Inconclusive (a failure under CI=true) with the
/// registry's reason. Linked into every test project that runs Vulkan (not part of the ../Shared/*.cs glob, since the
/// other test projects do not reference Weft.Vulkan).
/// </summary>
public static class VulkanTestDevice
{
    /// <summary>The first Vulkan device; with <paramref name="requireEnabled"/>, also Inconclusive when
    /// <c>WEFT_DISABLE_VULKAN</c> turns the backend off for code that goes through <see cref="BackendRegistry.Default"/>.</summary>
    public static VulkanDevice DeviceOrSkip(bool requireEnabled = false)
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
        if (requireEnabled && BackendRegistry.IsDisabledByEnvironment("Vulkan"))
        {
            Assert.Inconclusive("WEFT_DISABLE_VULKAN is set");
        }
        return reg.VulkanDevices[0];
    }

    /// <summary>A backend on <see cref="DeviceOrSkip"/>'s device.</summary>
    public static IBackend CreateBackendOrSkip() => DeviceOrSkip().CreateBackend();
}
