using Weft.Core;

namespace Weft.Vulkan;

/// <summary>
/// The Vulkan backend family: every physical device the system loader reports, ordered discrete &gt; integrated &gt;
/// virtual GPU &gt; CPU (lavapipe); <c>WEFT_VULKAN_DEVICE=N</c> keeps only device N (loader order). Never throws: with
/// no loader or device it lists no device and <see cref="Status"/> says why.
/// </summary>
public sealed class VulkanBackendRegistry : IBackendRegistry
{
    private static readonly Lazy<(IReadOnlyList<VulkanDevice> Devices, string Status)> s_found = new(() => Find(Environment.GetEnvironmentVariable("WEFT_VULKAN_DEVICE")));

    /// <inheritdoc/>
    public string Name => "Vulkan";

    /// <inheritdoc/>
    public IReadOnlyList<IDevice> Devices => s_found.Value.Devices;

    /// <summary>The Vulkan devices, typed.</summary>
    public IReadOnlyList<VulkanDevice> VulkanDevices => s_found.Value.Devices;

    /// <summary>One line: how many devices were found, or why there are none (no loader, no driver, bad WEFT_VULKAN_DEVICE).</summary>
    public string Status => s_found.Value.Status;

    private static int Rank(int deviceType) => deviceType switch { 2 => 0, 1 => 1, 3 => 2, 4 => 4, _ => 3 };

    /// <summary>Enumerates and orders the devices; <paramref name="pick"/> is the value of WEFT_VULKAN_DEVICE (or null).</summary>
    internal static (IReadOnlyList<VulkanDevice> Devices, string Status) Find(string? pick)
    {
        VulkanInstance inst;
        try
        {
            inst = VulkanInstance.Shared;
        }
        catch (Exception e)
        {
            return ([], $"Vulkan unavailable: {e.Message}");
        }
        if (inst.Error is not null)
        {
            return ([], $"Vulkan unavailable: {inst.Error}");
        }
        var usable = inst.Physical.Where(p => p.ComputeQueueFamily >= 0 && p.ApiVersionRaw >= VulkanInstance.MakeVersion(1, 1, 0)).ToList();
        if (!string.IsNullOrEmpty(pick))
        {
            if (!int.TryParse(pick, out int idx) || idx < 0 || idx >= inst.Physical.Count)
            {
                return ([], $"Vulkan unavailable: WEFT_VULKAN_DEVICE={pick} is not a device index (0..{inst.Physical.Count - 1})");
            }
            usable = usable.Where(p => p.Index == idx).ToList();
            if (usable.Count == 0)
            {
                return ([], $"Vulkan unavailable: device {idx} ({inst.Physical[idx].Name}) has no compute queue or is below Vulkan 1.1");
            }
        }
        usable = usable.OrderBy(p => Rank(p.DeviceType)).ThenBy(p => p.Index).ToList();
        List<VulkanDevice> list;
        try
        {
            list = usable.Select(p => new VulkanDevice(p)).ToList();
        }
        catch (ArgumentException e)
        {
            return ([], $"Vulkan unavailable: {e.Message}");
        }
        string status = list.Count == 0
            ? "Vulkan unavailable: no device with a compute queue and Vulkan 1.1"
            : $"Vulkan: {list.Count} device(s): {string.Join("; ", list.Select(d => $"{d.Name} {d.Info.Name} ({d.Info.TypeName})"))}";
        if (inst.ValidationNote is not null)
        {
            status += $" [{inst.ValidationNote}]";
        }
        return (list, status);
    }
}
