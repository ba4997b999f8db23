using Weft.Vulkan.Interop;

namespace Weft.Vulkan;

/// <summary>The logical device of a <see cref="VulkanDevice"/>: queue, command pool, fence, memory and pipelines.</summary>
internal sealed unsafe partial class VulkanContext : IDisposable
{
    private readonly object _queueLock = new();
    private ulong _commandPool;
    private nint _cmd;
    private ulong _fence;
    private long _allocated;
    private bool _disposed;

    public VulkanContext(VulkanInstance instance, VulkanDeviceInfo info, bool forceStaging = false)
    {
        Info = info;
        ForceStaging = forceStaging;
        VkInstanceApi iapi = instance.Api ?? throw new InvalidOperationException("Vulkan instance is not available.");
        float prio = 1f;
        var q = new VkDeviceQueueCreateInfo { SType = 2, QueueFamilyIndex = (uint)info.ComputeQueueFamily, QueueCount = 1, PQueuePriorities = &prio };
        var ci = new VkDeviceCreateInfo { SType = 3, QueueCreateInfoCount = 1, PQueueCreateInfos = &q };
        nint dev;
        Vk.Check(iapi.CreateDevice(info.Physical, &ci, null, &dev), $"vkCreateDevice({info.Name})");
        Handle = dev;
        Api = new VkDeviceApi(iapi, dev);
        nint queue;
        Api.GetDeviceQueue(dev, (uint)info.ComputeQueueFamily, 0, &queue);
        Queue = queue;
        var pci = new VkCommandPoolCreateInfo { SType = 39, Flags = 2, QueueFamilyIndex = (uint)info.ComputeQueueFamily };
        ulong pool;
        Vk.Check(Api.CreateCommandPool(dev, &pci, null, &pool), "vkCreateCommandPool");
        _commandPool = pool;
        var ai = new VkCommandBufferAllocateInfo { SType = 40, CommandPool = pool, Level = 0, CommandBufferCount = 1 };
        nint cmd;
        Vk.Check(Api.AllocateCommandBuffers(dev, &ai, &cmd), "vkAllocateCommandBuffers");
        _cmd = cmd;
        var fci = new VkFenceCreateInfo { SType = 8 };
        ulong fence;
        Vk.Check(Api.CreateFence(dev, &fci, null, &fence), "vkCreateFence");
        _fence = fence;
        InitPipelines();
        // Devices live as long as the process; save the pipeline cache when it ends.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            lock (_queueLock)
            {
                if (!_disposed)
                {
                    SavePipelineCache();
                }
            }
        };
    }

    public VulkanDeviceInfo Info { get; }

    /// <summary>Device buffers are never mapped, so host access takes the staging path of discrete GPUs (tests).</summary>
    public bool ForceStaging { get; }

    public nint Handle { get; }

    public VkDeviceApi Api { get; }

    public nint Queue { get; }

    public long AllocatedBytes => Interlocked.Read(ref _allocated);

    /// <summary>Records commands with <paramref name="record"/> into the context's command buffer, submits and waits.</summary>
    public void Submit(Action<nint> record)
    {
        lock (_queueLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Vk.Check(Api.ResetCommandBuffer(_cmd, 0), "vkResetCommandBuffer");
            var bi = new VkCommandBufferBeginInfo { SType = 42, Flags = 1 };
            Vk.Check(Api.BeginCommandBuffer(_cmd, &bi), "vkBeginCommandBuffer");
            record(_cmd);
            Vk.Check(Api.EndCommandBuffer(_cmd), "vkEndCommandBuffer");
            nint cmd = _cmd;
            var si = new VkSubmitInfo { SType = 4, CommandBufferCount = 1, PCommandBuffers = &cmd };
            ulong fence = _fence;
            Vk.Check(Api.ResetFences(Handle, 1, &fence), "vkResetFences");
            Vk.Check(Api.QueueSubmit(Queue, 1, &si, fence), "vkQueueSubmit");
            int r = Api.WaitForFences(Handle, 1, &fence, 1, ulong.MaxValue);
            Vk.Check(r, "vkWaitForFences");
        }
    }

    private readonly object _stagingLock = new();
    private (ulong Buffer, ulong Memory, nint Mapped, long Size) _staging;

    /// <summary>
    /// Runs <paramref name="use"/> with a persistent host-visible staging buffer of at least <paramref name="size"/>
    /// bytes (grown on demand, one user at a time).
    /// </summary>
    public void WithStaging(long size, Action<ulong, nint> use)
    {
        lock (_stagingLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_staging.Size < size)
            {
                if (_staging.Buffer != 0)
                {
                    DestroyBuffer(_staging.Buffer, _staging.Memory, _staging.Size);
                }
                _staging = default;
                long grown = Math.Max(size, 1 << 20);
                var (b, m, p) = CreateBuffer(grown, host: true);
                _staging = (b, m, p, grown);
            }
            use(_staging.Buffer, _staging.Mapped);
        }
    }

    /// <summary>Full compute/transfer/host memory barrier.</summary>
    public void Barrier(nint cmd)
    {
        var mb = new VkMemoryBarrier
        {
            SType = 46,
            SrcAccessMask = Vk.AccessShaderWrite | Vk.AccessTransferWrite | Vk.AccessHostWrite,
            DstAccessMask = Vk.AccessShaderRead | Vk.AccessShaderWrite | Vk.AccessTransferRead | Vk.AccessTransferWrite | Vk.AccessHostRead,
        };
        uint stages = Vk.PipelineStageComputeShader | Vk.PipelineStageTransfer | Vk.PipelineStageHost;
        Api.CmdPipelineBarrier(cmd, stages, stages, 0, 1, &mb, 0, null, 0, null);
    }

    /// <summary>Creates a buffer with its own memory; device-local, host-visible when <paramref name="host"/>.</summary>
    public (ulong Buffer, ulong Memory, nint Mapped) CreateBuffer(long size, bool host)
    {
        var bci = new VkBufferCreateInfo
        {
            SType = 12,
            Size = (ulong)Math.Max(size, 4),
            Usage = Vk.BufferUsageStorage | Vk.BufferUsageTransferSrc | Vk.BufferUsageTransferDst,
        };
        ulong buf;
        Vk.Check(Api.CreateBuffer(Handle, &bci, null, &buf), $"vkCreateBuffer({size} bytes)");
        VkMemoryRequirements req;
        Api.GetBufferMemoryRequirements(Handle, buf, &req);
        int type = PickMemoryType(req.MemoryTypeBits, host);
        if (type < 0)
        {
            Api.DestroyBuffer(Handle, buf, null);
            throw new OutOfMemoryException($"Vulkan device {Info.Name} has no {(host ? "host-visible coherent" : "device-local")} memory type for a buffer.");
        }
        var mai = new VkMemoryAllocateInfo { SType = 5, AllocationSize = req.Size, MemoryTypeIndex = (uint)type };
        ulong mem;
        int r = Api.AllocateMemory(Handle, &mai, null, &mem);
        if (r != Vk.Success)
        {
            Api.DestroyBuffer(Handle, buf, null);
            throw new OutOfMemoryException($"Vulkan device {Info.Name}: vkAllocateMemory({req.Size} bytes) failed with {Vk.ResultName(r)}.");
        }
        Vk.Check(Api.BindBufferMemory(Handle, buf, mem, 0), "vkBindBufferMemory");
        nint mapped = 0;
        if ((host || !ForceStaging) && (Info.MemoryTypes[type].Flags & (Vk.MemoryHostVisible | Vk.MemoryHostCoherent)) == (Vk.MemoryHostVisible | Vk.MemoryHostCoherent))
        {
            void* p;
            Vk.Check(Api.MapMemory(Handle, mem, 0, ulong.MaxValue, 0, &p), "vkMapMemory");
            mapped = (nint)p;
        }
        Interlocked.Add(ref _allocated, size);
        return (buf, mem, mapped);
    }

    public void DestroyBuffer(ulong buffer, ulong memory, long size)
    {
        if (_disposed)
        {
            return;
        }
        Api.DestroyBuffer(Handle, buffer, null);
        Api.FreeMemory(Handle, memory, null);
        Interlocked.Add(ref _allocated, -size);
    }

    // Device memory: prefer device-local; on non-discrete devices (integrated, lavapipe) prefer device-local memory
    // that is also host-visible and coherent, so writes need no staging copy. Host (staging) memory: visible+coherent.
    private int PickMemoryType(uint bits, bool host)
    {
        uint hv = Vk.MemoryHostVisible | Vk.MemoryHostCoherent;
        var want = new List<uint>();
        if (host)
        {
            want.Add(hv | Vk.MemoryHostCached);
            want.Add(hv);
        }
        else
        {
            if (Info.DeviceType != 2)
            {
                want.Add(Vk.MemoryDeviceLocal | hv);
            }
            want.Add(Vk.MemoryDeviceLocal);
            want.Add(0);
        }
        foreach (uint w in want)
        {
            for (int i = 0; i < Info.MemoryTypes.Count; i++)
            {
                if ((bits & (1u << i)) != 0 && (Info.MemoryTypes[i].Flags & w) == w)
                {
                    return i;
                }
            }
        }
        return -1;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        Api.DeviceWaitIdle(Handle);
        SavePipelineCache();
        DisposePipelines();
        if (_staging.Buffer != 0)
        {
            DestroyBuffer(_staging.Buffer, _staging.Memory, _staging.Size);
        }
        Api.DestroyFence(Handle, _fence, null);
        Api.DestroyCommandPool(Handle, _commandPool, null);
        _disposed = true;
        Api.DestroyDevice(Handle, null);
    }
}
