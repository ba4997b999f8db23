using System.Runtime.InteropServices;

namespace Weft.Vulkan.Interop;

/// <summary>
/// Weft's own bindings of the Vulkan compute subset: the system loader is opened with <see cref="NativeLibrary"/>,
/// every other entry point is resolved through vkGetInstanceProcAddr / vkGetDeviceProcAddr into unmanaged function
/// pointers. Structs are blittable and laid out as in vulkan_core.h (64-bit).
/// </summary>
internal static unsafe class Vk
{
    public const int Success = 0;
    public const int Incomplete = 5;
    public const uint QueueComputeBit = 0x2;
    public const uint ShaderStageCompute = 0x20;
    public const int DescriptorTypeStorageBuffer = 7;
    public const int PipelineBindPointCompute = 1;
    public const uint MemoryDeviceLocal = 0x1, MemoryHostVisible = 0x2, MemoryHostCoherent = 0x4, MemoryHostCached = 0x8;
    public const uint BufferUsageTransferSrc = 0x1, BufferUsageTransferDst = 0x2, BufferUsageStorage = 0x20;
    public const uint PipelineStageComputeShader = 0x800, PipelineStageTransfer = 0x1000, PipelineStageHost = 0x4000;
    public const uint AccessShaderRead = 0x20, AccessShaderWrite = 0x40, AccessTransferRead = 0x800, AccessTransferWrite = 0x1000, AccessHostRead = 0x2000, AccessHostWrite = 0x4000;

    private static nint s_lib;
    private static delegate* unmanaged<nint, byte*, nint> s_getInstanceProcAddr;

    /// <summary>Why the loader could not be opened, or null once it is open.</summary>
    public static string? LoadError { get; private set; } = "not loaded yet";

    /// <summary>Opens the system Vulkan loader once; false (with <see cref="LoadError"/>) when it is missing.</summary>
    public static bool TryLoad()
    {
        if (s_lib != 0)
        {
            return true;
        }
        string[] names = OperatingSystem.IsWindows() ? ["vulkan-1.dll"]
            : OperatingSystem.IsMacOS() ? ["libvulkan.1.dylib", "libMoltenVK.dylib"]
            : ["libvulkan.so.1", "libvulkan.so"];
        foreach (string n in names)
        {
            if (NativeLibrary.TryLoad(n, out nint h))
            {
                if (!NativeLibrary.TryGetExport(h, "vkGetInstanceProcAddr", out nint gipa))
                {
                    LoadError = $"{n} has no vkGetInstanceProcAddr export";
                    return false;
                }
                s_lib = h;
                s_getInstanceProcAddr = (delegate* unmanaged<nint, byte*, nint>)gipa;
                LoadError = null;
                return true;
            }
        }
        LoadError = $"the Vulkan loader ({string.Join(" / ", names)}) is not installed";
        return false;
    }

    /// <summary>Resolves an instance-level (or global when <paramref name="instance"/> is 0) entry point; 0 when absent.</summary>
    public static nint InstanceProc(nint instance, string name)
    {
        byte* p = stackalloc byte[name.Length + 1];
        for (int i = 0; i < name.Length; i++)
        {
            p[i] = (byte)name[i];
        }
        p[name.Length] = 0;
        return s_getInstanceProcAddr(instance, p);
    }

    /// <summary>Throws a clear error for a failed call.</summary>
    public static void Check(int result, string what)
    {
        if (result != Success)
        {
            throw new VulkanException(what, result);
        }
    }

    /// <summary>Text for a VkResult code.</summary>
    public static string ResultName(int r) => r switch
    {
        0 => "VK_SUCCESS",
        1 => "VK_NOT_READY",
        2 => "VK_TIMEOUT",
        5 => "VK_INCOMPLETE",
        -1 => "VK_ERROR_OUT_OF_HOST_MEMORY",
        -2 => "VK_ERROR_OUT_OF_DEVICE_MEMORY",
        -3 => "VK_ERROR_INITIALIZATION_FAILED",
        -4 => "VK_ERROR_DEVICE_LOST",
        -5 => "VK_ERROR_MEMORY_MAP_FAILED",
        -6 => "VK_ERROR_LAYER_NOT_PRESENT",
        -7 => "VK_ERROR_EXTENSION_NOT_PRESENT",
        -8 => "VK_ERROR_FEATURE_NOT_PRESENT",
        -9 => "VK_ERROR_INCOMPATIBLE_DRIVER",
        -13 => "VK_ERROR_UNKNOWN",
        _ => $"VkResult {r}",
    };
}

/// <summary>A failed Vulkan call.</summary>
public sealed class VulkanException : Exception
{
    /// <summary>Creates the error for <paramref name="what"/> returning <paramref name="result"/>.</summary>
    public VulkanException(string what, int result)
        : base($"Vulkan: {what} failed with {Interop.Vk.ResultName(result)}.")
    {
        Result = result;
    }

    /// <summary>The VkResult code.</summary>
    public int Result { get; }
}

#pragma warning disable CS0649 // fields are written by the driver
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VkApplicationInfo
{
    public int SType; public void* PNext; public byte* PApplicationName; public uint ApplicationVersion;
    public byte* PEngineName; public uint EngineVersion; public uint ApiVersion;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VkInstanceCreateInfo
{
    public int SType; public void* PNext; public uint Flags; public VkApplicationInfo* PApplicationInfo;
    public uint EnabledLayerCount; public byte** PpEnabledLayerNames; public uint EnabledExtensionCount; public byte** PpEnabledExtensionNames;
}

[StructLayout(LayoutKind.Sequential)]
internal struct VkQueueFamilyProperties
{
    public uint QueueFlags; public uint QueueCount; public uint TimestampValidBits; public uint GranW, GranH, GranD;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VkDeviceQueueCreateInfo
{
    public int SType; public void* PNext; public uint Flags; public uint QueueFamilyIndex; public uint QueueCount; public float* PQueuePriorities;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VkDeviceCreateInfo
{
    public int SType; public void* PNext; public uint Flags; public uint QueueCreateInfoCount; public VkDeviceQueueCreateInfo* PQueueCreateInfos;
    public uint EnabledLayerCount; public byte** PpEnabledLayerNames; public uint EnabledExtensionCount; public byte** PpEnabledExtensionNames; public void* PEnabledFeatures;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VkBufferCreateInfo
{
    public int SType; public void* PNext; public uint Flags; public ulong Size; public uint Usage; public int SharingMode; public uint QueueFamilyIndexCount; public uint* PQueueFamilyIndices;
}

[StructLayout(LayoutKind.Sequential)]
internal struct VkMemoryRequirements
{
    public ulong Size; public ulong Alignment; public uint MemoryTypeBits;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VkMemoryAllocateInfo
{
    public int SType; public void* PNext; public ulong AllocationSize; public uint MemoryTypeIndex;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VkShaderModuleCreateInfo
{
    public int SType; public void* PNext; public uint Flags; public nuint CodeSize; public uint* PCode;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VkDescriptorSetLayoutBinding
{
    public uint Binding; public int DescriptorType; public uint DescriptorCount; public uint StageFlags; public void* PImmutableSamplers;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VkDescriptorSetLayoutCreateInfo
{
    public int SType; public void* PNext; public uint Flags; public uint BindingCount; public VkDescriptorSetLayoutBinding* PBindings;
}

[StructLayout(LayoutKind.Sequential)]
internal struct VkPushConstantRange
{
    public uint StageFlags; public uint Offset; public uint Size;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VkPipelineLayoutCreateInfo
{
    public int SType; public void* PNext; public uint Flags; public uint SetLayoutCount; public ulong* PSetLayouts; public uint PushConstantRangeCount; public VkPushConstantRange* PPushConstantRanges;
}

[StructLayout(LayoutKind.Sequential)]
internal struct VkSpecializationMapEntry
{
    public uint ConstantId; public uint Offset; public nuint Size;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VkSpecializationInfo
{
    public uint MapEntryCount; public VkSpecializationMapEntry* PMapEntries; public nuint DataSize; public void* PData;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VkPipelineShaderStageCreateInfo
{
    public int SType; public void* PNext; public uint Flags; public uint Stage; public ulong Module; public byte* PName; public VkSpecializationInfo* PSpecializationInfo;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VkComputePipelineCreateInfo
{
    public int SType; public void* PNext; public uint Flags; public VkPipelineShaderStageCreateInfo Stage; public ulong Layout; public ulong BasePipelineHandle; public int BasePipelineIndex;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VkPipelineCacheCreateInfo
{
    public int SType; public void* PNext; public uint Flags; public nuint InitialDataSize; public void* PInitialData;
}

[StructLayout(LayoutKind.Sequential)]
internal struct VkDescriptorPoolSize
{
    public int Type; public uint DescriptorCount;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VkDescriptorPoolCreateInfo
{
    public int SType; public void* PNext; public uint Flags; public uint MaxSets; public uint PoolSizeCount; public VkDescriptorPoolSize* PPoolSizes;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VkDescriptorSetAllocateInfo
{
    public int SType; public void* PNext; public ulong DescriptorPool; public uint DescriptorSetCount; public ulong* PSetLayouts;
}

[StructLayout(LayoutKind.Sequential)]
internal struct VkDescriptorBufferInfo
{
    public ulong Buffer; public ulong Offset; public ulong Range;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VkWriteDescriptorSet
{
    public int SType; public void* PNext; public ulong DstSet; public uint DstBinding; public uint DstArrayElement; public uint DescriptorCount; public int DescriptorType;
    public void* PImageInfo; public VkDescriptorBufferInfo* PBufferInfo; public void* PTexelBufferView;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VkCommandPoolCreateInfo
{
    public int SType; public void* PNext; public uint Flags; public uint QueueFamilyIndex;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VkCommandBufferAllocateInfo
{
    public int SType; public void* PNext; public ulong CommandPool; public int Level; public uint CommandBufferCount;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VkCommandBufferBeginInfo
{
    public int SType; public void* PNext; public uint Flags; public void* PInheritanceInfo;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VkMemoryBarrier
{
    public int SType; public void* PNext; public uint SrcAccessMask; public uint DstAccessMask;
}

[StructLayout(LayoutKind.Sequential)]
internal struct VkBufferCopy
{
    public ulong SrcOffset; public ulong DstOffset; public ulong Size;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VkSubmitInfo
{
    public int SType; public void* PNext; public uint WaitSemaphoreCount; public ulong* PWaitSemaphores; public uint* PWaitDstStageMask;
    public uint CommandBufferCount; public nint* PCommandBuffers; public uint SignalSemaphoreCount; public ulong* PSignalSemaphores;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VkFenceCreateInfo
{
    public int SType; public void* PNext; public uint Flags;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VkQueryPoolCreateInfo
{
    public int SType; public void* PNext; public uint Flags; public int QueryType; public uint QueryCount; public uint PipelineStatistics;
}
#pragma warning restore CS0649
