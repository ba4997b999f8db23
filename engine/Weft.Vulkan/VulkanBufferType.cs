using Weft.Core;

namespace Weft.Vulkan;

/// <summary>Device memory of one <see cref="VulkanDevice"/> (device-local; written and read through staging or a mapping).</summary>
public sealed class VulkanBufferType : BufferTypeBase, IBufferType
{
    private readonly VulkanDevice _device;

    internal VulkanBufferType(VulkanDevice device)
    {
        _device = device;
    }

    /// <inheritdoc/>
    public override string Name => _device.Name;

    /// <inheritdoc/>
    public override long Alignment => Math.Max(64, _device.Info.MinStorageBufferOffsetAlignment);

    /// <summary>
    /// Largest buffer: the largest device-local heap. Buffers above <see cref="VulkanDevice.MaxAllocation"/> are made of
    /// several allocations; a tensor must lie within one of them, except matmul and get_rows weights, which are split by rows.
    /// </summary>
    public override long MaxSize => _device.HeapSize;

    /// <summary>One chunk of a <see cref="VulkanBuffer"/> (the device's largest allocation, 256-byte aligned).</summary>
    public long ContiguousLimit => _device.MaxAllocation & ~255L;

    /// <inheritdoc/>
    public override bool IsHost => false;

    /// <summary>The device owning this memory.</summary>
    public VulkanDevice Device => _device;

    /// <inheritdoc/>
    protected override IBuffer AllocateCore(long size) => new VulkanBuffer(_device.Context, this, size);
}
