namespace Weft.Vulkan.Interop;

/// <summary>Instance-level entry points (missing ones are null pointers).</summary>
internal sealed unsafe class VkInstanceApi
{
    public readonly delegate* unmanaged<nint, void*, void> DestroyInstance;
    public readonly delegate* unmanaged<nint, uint*, nint*, int> EnumeratePhysicalDevices;
    public readonly delegate* unmanaged<nint, byte*, void> GetPhysicalDeviceProperties;
    public readonly delegate* unmanaged<nint, byte*, void> GetPhysicalDeviceProperties2;
    public readonly delegate* unmanaged<nint, byte*, void> GetPhysicalDeviceFeatures2;
    public readonly delegate* unmanaged<nint, byte*, void> GetPhysicalDeviceMemoryProperties;
    public readonly delegate* unmanaged<nint, uint*, VkQueueFamilyProperties*, void> GetPhysicalDeviceQueueFamilyProperties;
    public readonly delegate* unmanaged<nint, VkDeviceCreateInfo*, void*, nint*, int> CreateDevice;
    public readonly delegate* unmanaged<nint, byte*, nint> GetDeviceProcAddr;

    public VkInstanceApi(nint instance)
    {
        DestroyInstance = (delegate* unmanaged<nint, void*, void>)Vk.InstanceProc(instance, "vkDestroyInstance");
        EnumeratePhysicalDevices = (delegate* unmanaged<nint, uint*, nint*, int>)Vk.InstanceProc(instance, "vkEnumeratePhysicalDevices");
        GetPhysicalDeviceProperties = (delegate* unmanaged<nint, byte*, void>)Vk.InstanceProc(instance, "vkGetPhysicalDeviceProperties");
        GetPhysicalDeviceProperties2 = (delegate* unmanaged<nint, byte*, void>)Vk.InstanceProc(instance, "vkGetPhysicalDeviceProperties2");
        GetPhysicalDeviceFeatures2 = (delegate* unmanaged<nint, byte*, void>)Vk.InstanceProc(instance, "vkGetPhysicalDeviceFeatures2");
        GetPhysicalDeviceMemoryProperties = (delegate* unmanaged<nint, byte*, void>)Vk.InstanceProc(instance, "vkGetPhysicalDeviceMemoryProperties");
        GetPhysicalDeviceQueueFamilyProperties = (delegate* unmanaged<nint, uint*, VkQueueFamilyProperties*, void>)Vk.InstanceProc(instance, "vkGetPhysicalDeviceQueueFamilyProperties");
        CreateDevice = (delegate* unmanaged<nint, VkDeviceCreateInfo*, void*, nint*, int>)Vk.InstanceProc(instance, "vkCreateDevice");
        GetDeviceProcAddr = (delegate* unmanaged<nint, byte*, nint>)Vk.InstanceProc(instance, "vkGetDeviceProcAddr");
    }
}

/// <summary>Device-level entry points resolved through vkGetDeviceProcAddr.</summary>
internal sealed unsafe class VkDeviceApi
{
    public readonly delegate* unmanaged<nint, void*, void> DestroyDevice;
    public readonly delegate* unmanaged<nint, uint, uint, nint*, void> GetDeviceQueue;
    public readonly delegate* unmanaged<nint, int> DeviceWaitIdle;
    public readonly delegate* unmanaged<nint, VkBufferCreateInfo*, void*, ulong*, int> CreateBuffer;
    public readonly delegate* unmanaged<nint, ulong, void*, void> DestroyBuffer;
    public readonly delegate* unmanaged<nint, ulong, VkMemoryRequirements*, void> GetBufferMemoryRequirements;
    public readonly delegate* unmanaged<nint, VkMemoryAllocateInfo*, void*, ulong*, int> AllocateMemory;
    public readonly delegate* unmanaged<nint, ulong, void*, void> FreeMemory;
    public readonly delegate* unmanaged<nint, ulong, ulong, ulong, int> BindBufferMemory;
    public readonly delegate* unmanaged<nint, ulong, ulong, ulong, uint, void**, int> MapMemory;
    public readonly delegate* unmanaged<nint, ulong, void> UnmapMemory;
    public readonly delegate* unmanaged<nint, VkShaderModuleCreateInfo*, void*, ulong*, int> CreateShaderModule;
    public readonly delegate* unmanaged<nint, ulong, void*, void> DestroyShaderModule;
    public readonly delegate* unmanaged<nint, VkDescriptorSetLayoutCreateInfo*, void*, ulong*, int> CreateDescriptorSetLayout;
    public readonly delegate* unmanaged<nint, ulong, void*, void> DestroyDescriptorSetLayout;
    public readonly delegate* unmanaged<nint, VkPipelineLayoutCreateInfo*, void*, ulong*, int> CreatePipelineLayout;
    public readonly delegate* unmanaged<nint, ulong, void*, void> DestroyPipelineLayout;
    public readonly delegate* unmanaged<nint, ulong, uint, VkComputePipelineCreateInfo*, void*, ulong*, int> CreateComputePipelines;
    public readonly delegate* unmanaged<nint, ulong, void*, void> DestroyPipeline;
    public readonly delegate* unmanaged<nint, VkPipelineCacheCreateInfo*, void*, ulong*, int> CreatePipelineCache;
    public readonly delegate* unmanaged<nint, ulong, nuint*, void*, int> GetPipelineCacheData;
    public readonly delegate* unmanaged<nint, ulong, void*, void> DestroyPipelineCache;
    public readonly delegate* unmanaged<nint, VkDescriptorPoolCreateInfo*, void*, ulong*, int> CreateDescriptorPool;
    public readonly delegate* unmanaged<nint, ulong, void*, void> DestroyDescriptorPool;
    public readonly delegate* unmanaged<nint, ulong, uint, int> ResetDescriptorPool;
    public readonly delegate* unmanaged<nint, VkDescriptorSetAllocateInfo*, ulong*, int> AllocateDescriptorSets;
    public readonly delegate* unmanaged<nint, uint, VkWriteDescriptorSet*, uint, void*, void> UpdateDescriptorSets;
    public readonly delegate* unmanaged<nint, VkCommandPoolCreateInfo*, void*, ulong*, int> CreateCommandPool;
    public readonly delegate* unmanaged<nint, ulong, void*, void> DestroyCommandPool;
    public readonly delegate* unmanaged<nint, VkCommandBufferAllocateInfo*, nint*, int> AllocateCommandBuffers;
    public readonly delegate* unmanaged<nint, uint, int> ResetCommandBuffer;
    public readonly delegate* unmanaged<nint, VkCommandBufferBeginInfo*, int> BeginCommandBuffer;
    public readonly delegate* unmanaged<nint, int> EndCommandBuffer;
    public readonly delegate* unmanaged<nint, int, ulong, void> CmdBindPipeline;
    public readonly delegate* unmanaged<nint, int, ulong, uint, uint, ulong*, uint, uint*, void> CmdBindDescriptorSets;
    public readonly delegate* unmanaged<nint, ulong, uint, uint, uint, void*, void> CmdPushConstants;
    public readonly delegate* unmanaged<nint, uint, uint, uint, void> CmdDispatch;
    public readonly delegate* unmanaged<nint, uint, uint, uint, uint, VkMemoryBarrier*, uint, void*, uint, void*, void> CmdPipelineBarrier;
    public readonly delegate* unmanaged<nint, ulong, ulong, uint, VkBufferCopy*, void> CmdCopyBuffer;
    public readonly delegate* unmanaged<nint, ulong, ulong, ulong, uint, void> CmdFillBuffer;
    public readonly delegate* unmanaged<nint, uint, VkSubmitInfo*, ulong, int> QueueSubmit;
    public readonly delegate* unmanaged<nint, VkFenceCreateInfo*, void*, ulong*, int> CreateFence;
    public readonly delegate* unmanaged<nint, ulong, void*, void> DestroyFence;
    public readonly delegate* unmanaged<nint, uint, ulong*, uint, ulong, int> WaitForFences;
    public readonly delegate* unmanaged<nint, uint, ulong*, int> ResetFences;
    public readonly delegate* unmanaged<nint, VkQueryPoolCreateInfo*, void*, ulong*, int> CreateQueryPool;
    public readonly delegate* unmanaged<nint, ulong, void*, void> DestroyQueryPool;
    public readonly delegate* unmanaged<nint, ulong, uint, uint, void> CmdResetQueryPool;
    public readonly delegate* unmanaged<nint, uint, ulong, uint, void> CmdWriteTimestamp;
    public readonly delegate* unmanaged<nint, ulong, uint, uint, nuint, void*, ulong, uint, int> GetQueryPoolResults;

    public VkDeviceApi(VkInstanceApi inst, nint device)
    {
        DestroyDevice = (delegate* unmanaged<nint, void*, void>)inst.DeviceProc(device, "vkDestroyDevice");
        GetDeviceQueue = (delegate* unmanaged<nint, uint, uint, nint*, void>)inst.DeviceProc(device, "vkGetDeviceQueue");
        DeviceWaitIdle = (delegate* unmanaged<nint, int>)inst.DeviceProc(device, "vkDeviceWaitIdle");
        CreateBuffer = (delegate* unmanaged<nint, VkBufferCreateInfo*, void*, ulong*, int>)inst.DeviceProc(device, "vkCreateBuffer");
        DestroyBuffer = (delegate* unmanaged<nint, ulong, void*, void>)inst.DeviceProc(device, "vkDestroyBuffer");
        GetBufferMemoryRequirements = (delegate* unmanaged<nint, ulong, VkMemoryRequirements*, void>)inst.DeviceProc(device, "vkGetBufferMemoryRequirements");
        AllocateMemory = (delegate* unmanaged<nint, VkMemoryAllocateInfo*, void*, ulong*, int>)inst.DeviceProc(device, "vkAllocateMemory");
        FreeMemory = (delegate* unmanaged<nint, ulong, void*, void>)inst.DeviceProc(device, "vkFreeMemory");
        BindBufferMemory = (delegate* unmanaged<nint, ulong, ulong, ulong, int>)inst.DeviceProc(device, "vkBindBufferMemory");
        MapMemory = (delegate* unmanaged<nint, ulong, ulong, ulong, uint, void**, int>)inst.DeviceProc(device, "vkMapMemory");
        UnmapMemory = (delegate* unmanaged<nint, ulong, void>)inst.DeviceProc(device, "vkUnmapMemory");
        CreateShaderModule = (delegate* unmanaged<nint, VkShaderModuleCreateInfo*, void*, ulong*, int>)inst.DeviceProc(device, "vkCreateShaderModule");
        DestroyShaderModule = (delegate* unmanaged<nint, ulong, void*, void>)inst.DeviceProc(device, "vkDestroyShaderModule");
        CreateDescriptorSetLayout = (delegate* unmanaged<nint, VkDescriptorSetLayoutCreateInfo*, void*, ulong*, int>)inst.DeviceProc(device, "vkCreateDescriptorSetLayout");
        DestroyDescriptorSetLayout = (delegate* unmanaged<nint, ulong, void*, void>)inst.DeviceProc(device, "vkDestroyDescriptorSetLayout");
        CreatePipelineLayout = (delegate* unmanaged<nint, VkPipelineLayoutCreateInfo*, void*, ulong*, int>)inst.DeviceProc(device, "vkCreatePipelineLayout");
        DestroyPipelineLayout = (delegate* unmanaged<nint, ulong, void*, void>)inst.DeviceProc(device, "vkDestroyPipelineLayout");
        CreateComputePipelines = (delegate* unmanaged<nint, ulong, uint, VkComputePipelineCreateInfo*, void*, ulong*, int>)inst.DeviceProc(device, "vkCreateComputePipelines");
        DestroyPipeline = (delegate* unmanaged<nint, ulong, void*, void>)inst.DeviceProc(device, "vkDestroyPipeline");
        CreatePipelineCache = (delegate* unmanaged<nint, VkPipelineCacheCreateInfo*, void*, ulong*, int>)inst.DeviceProc(device, "vkCreatePipelineCache");
        GetPipelineCacheData = (delegate* unmanaged<nint, ulong, nuint*, void*, int>)inst.DeviceProc(device, "vkGetPipelineCacheData");
        DestroyPipelineCache = (delegate* unmanaged<nint, ulong, void*, void>)inst.DeviceProc(device, "vkDestroyPipelineCache");
        CreateDescriptorPool = (delegate* unmanaged<nint, VkDescriptorPoolCreateInfo*, void*, ulong*, int>)inst.DeviceProc(device, "vkCreateDescriptorPool");
        DestroyDescriptorPool = (delegate* unmanaged<nint, ulong, void*, void>)inst.DeviceProc(device, "vkDestroyDescriptorPool");
        ResetDescriptorPool = (delegate* unmanaged<nint, ulong, uint, int>)inst.DeviceProc(device, "vkResetDescriptorPool");
        AllocateDescriptorSets = (delegate* unmanaged<nint, VkDescriptorSetAllocateInfo*, ulong*, int>)inst.DeviceProc(device, "vkAllocateDescriptorSets");
        UpdateDescriptorSets = (delegate* unmanaged<nint, uint, VkWriteDescriptorSet*, uint, void*, void>)inst.DeviceProc(device, "vkUpdateDescriptorSets");
        CreateCommandPool = (delegate* unmanaged<nint, VkCommandPoolCreateInfo*, void*, ulong*, int>)inst.DeviceProc(device, "vkCreateCommandPool");
        DestroyCommandPool = (delegate* unmanaged<nint, ulong, void*, void>)inst.DeviceProc(device, "vkDestroyCommandPool");
        AllocateCommandBuffers = (delegate* unmanaged<nint, VkCommandBufferAllocateInfo*, nint*, int>)inst.DeviceProc(device, "vkAllocateCommandBuffers");
        ResetCommandBuffer = (delegate* unmanaged<nint, uint, int>)inst.DeviceProc(device, "vkResetCommandBuffer");
        BeginCommandBuffer = (delegate* unmanaged<nint, VkCommandBufferBeginInfo*, int>)inst.DeviceProc(device, "vkBeginCommandBuffer");
        EndCommandBuffer = (delegate* unmanaged<nint, int>)inst.DeviceProc(device, "vkEndCommandBuffer");
        CmdBindPipeline = (delegate* unmanaged<nint, int, ulong, void>)inst.DeviceProc(device, "vkCmdBindPipeline");
        CmdBindDescriptorSets = (delegate* unmanaged<nint, int, ulong, uint, uint, ulong*, uint, uint*, void>)inst.DeviceProc(device, "vkCmdBindDescriptorSets");
        CmdPushConstants = (delegate* unmanaged<nint, ulong, uint, uint, uint, void*, void>)inst.DeviceProc(device, "vkCmdPushConstants");
        CmdDispatch = (delegate* unmanaged<nint, uint, uint, uint, void>)inst.DeviceProc(device, "vkCmdDispatch");
        CmdPipelineBarrier = (delegate* unmanaged<nint, uint, uint, uint, uint, VkMemoryBarrier*, uint, void*, uint, void*, void>)inst.DeviceProc(device, "vkCmdPipelineBarrier");
        CmdCopyBuffer = (delegate* unmanaged<nint, ulong, ulong, uint, VkBufferCopy*, void>)inst.DeviceProc(device, "vkCmdCopyBuffer");
        CmdFillBuffer = (delegate* unmanaged<nint, ulong, ulong, ulong, uint, void>)inst.DeviceProc(device, "vkCmdFillBuffer");
        QueueSubmit = (delegate* unmanaged<nint, uint, VkSubmitInfo*, ulong, int>)inst.DeviceProc(device, "vkQueueSubmit");
        CreateFence = (delegate* unmanaged<nint, VkFenceCreateInfo*, void*, ulong*, int>)inst.DeviceProc(device, "vkCreateFence");
        DestroyFence = (delegate* unmanaged<nint, ulong, void*, void>)inst.DeviceProc(device, "vkDestroyFence");
        WaitForFences = (delegate* unmanaged<nint, uint, ulong*, uint, ulong, int>)inst.DeviceProc(device, "vkWaitForFences");
        ResetFences = (delegate* unmanaged<nint, uint, ulong*, int>)inst.DeviceProc(device, "vkResetFences");
        CreateQueryPool = (delegate* unmanaged<nint, VkQueryPoolCreateInfo*, void*, ulong*, int>)inst.DeviceProc(device, "vkCreateQueryPool");
        DestroyQueryPool = (delegate* unmanaged<nint, ulong, void*, void>)inst.DeviceProc(device, "vkDestroyQueryPool");
        CmdResetQueryPool = (delegate* unmanaged<nint, ulong, uint, uint, void>)inst.DeviceProc(device, "vkCmdResetQueryPool");
        CmdWriteTimestamp = (delegate* unmanaged<nint, uint, ulong, uint, void>)inst.DeviceProc(device, "vkCmdWriteTimestamp");
        GetQueryPoolResults = (delegate* unmanaged<nint, ulong, uint, uint, nuint, void*, ulong, uint, int>)inst.DeviceProc(device, "vkGetQueryPoolResults");
    }
}

internal static unsafe class VkInstanceApiExtensions
{
    /// <summary>Resolves a device entry point; throws when the driver lacks it.</summary>
    public static nint DeviceProc(this VkInstanceApi api, nint device, string name)
    {
        byte* p = stackalloc byte[name.Length + 1];
        for (int i = 0; i < name.Length; i++)
        {
            p[i] = (byte)name[i];
        }
        p[name.Length] = 0;
        nint f = api.GetDeviceProcAddr(device, p);
        return f != 0 ? f : throw new InvalidOperationException($"Vulkan: the driver does not export {name}.");
    }
}
