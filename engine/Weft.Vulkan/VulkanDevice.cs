using Weft.Core;

namespace Weft.Vulkan;

/// <summary>
/// One Vulkan physical device as a Weft <see cref="IDevice"/>. The logical device (queue, pipelines, memory) is
/// created on first use and shared by every backend and buffer of this device.
/// </summary>
public sealed class VulkanDevice : IDevice
{
    private readonly Lazy<VulkanContext> _context;

    internal VulkanDevice(VulkanDeviceInfo info, long? maxAllocation = null, bool forceStaging = false)
    {
        Info = info;
        BufferType = new VulkanBufferType(this);
        _context = new Lazy<VulkanContext>(() => new VulkanContext(VulkanInstance.Shared, info, forceStaging));
        long cap = Math.Min(info.MaxMemoryAllocationSize, info.MaxStorageBufferRange);
        string? env = Environment.GetEnvironmentVariable("WEFT_VULKAN_MAX_ALLOC");
        if (!string.IsNullOrEmpty(env))
        {
            if (!long.TryParse(env, out long forced) || forced < 4096)
            {
                throw new ArgumentException($"WEFT_VULKAN_MAX_ALLOC={env} is not a byte count of at least 4096.");
            }
            cap = Math.Min(cap, forced);
        }
        MaxAllocation = maxAllocation is long forcedCap ? Math.Min(cap, forcedCap) : cap;
    }

    /// <summary>What the device offers (features, limits, heaps).</summary>
    public VulkanDeviceInfo Info { get; }

    /// <summary>Largest single buffer this device allocates (see <see cref="VulkanBufferType.MaxSize"/>).</summary>
    public long MaxAllocation { get; }

    internal VulkanContext Context => _context.Value;

    /// <summary>Bytes of the largest device-local heap.</summary>
    public long HeapSize => Math.Max(MaxAllocation, Info.Heaps.Where(h => h.DeviceLocal).Select(h => h.Size).DefaultIfEmpty(0).Max());

    internal VulkanBufferType BufferType { get; }

    /// <inheritdoc/>
    public string Name => $"Vulkan{Info.Index}";

    /// <inheritdoc/>
    public string Description => $"{Info.Name} ({Info.TypeName}, Vulkan {Info.ApiVersion})";

    /// <inheritdoc/>
    public DeviceKind Kind => Info.DeviceType switch
    {
        2 => DeviceKind.GpuDiscrete,
        1 => DeviceKind.GpuIntegrated,
        3 => DeviceKind.GpuVirtual,
        _ => DeviceKind.CpuSoftware,
    };

    /// <inheritdoc/>
    public IBufferType DefaultBufferType => BufferType;

    /// <inheritdoc/>
    public DeviceMemory GetMemory()
    {
        long total = 0;
        foreach (var (size, local) in Info.Heaps)
        {
            if (local)
            {
                total = Math.Max(total, size);
            }
        }
        long used = _context.IsValueCreated ? _context.Value.AllocatedBytes : 0;
        return new DeviceMemory(Math.Max(0, total - used), total);
    }

    /// <inheritdoc/>
    public bool Supports(Tensor node)
    {
        try
        {
            return VulkanOpTable.Find(node) is { } op && op.Supports(node, this);
        }
        catch (Exception)
        {
            return false;
        }
    }

    /// <inheritdoc/>
    public bool SupportsBufferType(IBufferType bufferType) => ReferenceEquals(bufferType, BufferType);

    /// <inheritdoc/>
    public IBackend CreateBackend() => new VulkanBackend(this);

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {Description}";
}
