using Weft.Core;
using Weft.Vulkan.Interop;

namespace Weft.Vulkan;

/// <summary>
/// Records one graph's dispatches into a command buffer: binds tensors (aligned descriptor offset plus a byte offset
/// in the push constants), pushes constants, dispatches, and puts a compute barrier between dependent dispatches.
/// </summary>
internal sealed unsafe class VulkanRecorder
{
    private readonly VulkanContext _ctx;
    private readonly VulkanDevice _device;
    private readonly nint _cmd;
    private readonly List<ulong> _pools = new();
    private uint _poolSize;
    private readonly VkDescriptorBufferInfo[] _infos = new VkDescriptorBufferInfo[VulkanContext.BindingCount];
    private Tensor? _node;
    private const int DstBinding = 3;

    public VulkanRecorder(VulkanContext ctx, VulkanDevice device, nint cmd, int expectedDispatches)
    {
        _ctx = ctx;
        _device = device;
        _cmd = cmd;
        _poolSize = (uint)Math.Max(16, expectedDispatches);
        AddPool();
    }

    // Descriptor pools grow on demand (a split matmul records several dispatches for one node).
    private void AddPool()
    {
        var size = new VkDescriptorPoolSize { Type = Vk.DescriptorTypeStorageBuffer, DescriptorCount = _poolSize * VulkanContext.BindingCount };
        var dpci = new VkDescriptorPoolCreateInfo { SType = 33, MaxSets = _poolSize, PoolSizeCount = 1, PPoolSizes = &size };
        ulong pool;
        Vk.Check(_ctx.Api.CreateDescriptorPool(_ctx.Handle, &dpci, null, &pool), "vkCreateDescriptorPool");
        _pools.Add(pool);
        _poolSize *= 2;
    }

    /// <summary>Frees the descriptor pools and scratch buffers (after the submission completed).</summary>
    public void Release()
    {
        foreach (ulong p in _pools)
        {
            _ctx.Api.DestroyDescriptorPool(_ctx.Handle, p, null);
        }
        _pools.Clear();
        foreach (VulkanBuffer b in _temporaries)
        {
            b.Dispose();
        }
        _temporaries.Clear();
    }

    private readonly List<VulkanBuffer> _temporaries = new();

    /// <summary>Scratch buffers created while recording; disposed by the backend once the submission completed.</summary>
    public List<VulkanBuffer> Temporaries => _temporaries;

    /// <summary>True when <paramref name="t"/> lies within one allocation of its buffer (or is not in Vulkan memory).</summary>
    public static bool FitsOneChunk(Tensor t) => t.Buffer is not VulkanBuffer b || b.ChunkOf(t.Offset, Extent(t)) >= 0;

    /// <summary>
    /// Copies <paramref name="bytes"/> bytes at <paramref name="offset"/> of <paramref name="buffer"/> (possibly across
    /// allocations) into a new scratch buffer, followed by a barrier; returns the scratch buffer.
    /// </summary>
    public VulkanBuffer Gather(VulkanBuffer buffer, long offset, long bytes)
    {
        // Not cleared: clearing a device-only buffer would submit work while this command buffer is being recorded.
        var scratch = new VulkanBuffer(_ctx, _device.BufferType, bytes, clear: false);
        _temporaries.Add(scratch);
        ulong dst = scratch.Chunks[0].Handle;
        foreach (VulkanBuffer.Chunk c in buffer.Chunks)
        {
            long lo = Math.Max(offset, c.Start), hi = Math.Min(offset + bytes, c.Start + c.Size);
            if (lo < hi)
            {
                var region = new VkBufferCopy { SrcOffset = (ulong)(lo - c.Start), DstOffset = (ulong)(lo - offset), Size = (ulong)(hi - lo) };
                _ctx.Api.CmdCopyBuffer(_cmd, c.Handle, dst, 1, &region);
            }
        }
        _ctx.Barrier(_cmd);
        return scratch;
    }

    private VulkanBuffer? _scratch;

    /// <summary>The device this recording runs on.</summary>
    public VulkanDevice Device => _device;

    /// <summary>
    /// A device buffer of at least <paramref name="bytes"/> bytes (one allocation) shared by the nodes of this recording:
    /// a later call may return the same buffer, so its content is only valid until another node fills it (the barrier
    /// after every dispatch orders the uses). A larger request allocates a new buffer and clears <see cref="ScratchContent"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException"><paramref name="bytes"/> exceeds the device's largest allocation.</exception>
    public VulkanBuffer Scratch(long bytes)
    {
        long cap = _device.MaxAllocation & ~255L;
        if (bytes > cap)
        {
            throw new InvalidOperationException($"Vulkan node '{_node?.Name}': a scratch buffer of {bytes} bytes exceeds the {cap}-byte allocation limit of {_device.Name}.");
        }
        if (_scratch is null || _scratch.Size < bytes)
        {
            // At least 1 MiB (within the cap) so the nodes of one graph rarely need a second allocation.
            _scratch = new VulkanBuffer(_ctx, _device.BufferType, Math.Min(cap, Math.Max(bytes, 1L << 20)), clear: false);
            _temporaries.Add(_scratch);
            ScratchContent = null;
        }
        return _scratch;
    }

    /// <summary>What the <see cref="Scratch"/> buffer holds now, as the op that filled it describes it (null: unknown).</summary>
    public object? ScratchContent { get; set; }

    /// <summary>Dispatches recorded so far.</summary>
    public int Dispatches { get; private set; }

    /// <summary>Starts a node: clears bindings.</summary>
    public void Begin(Tensor node)
    {
        _node = node;
        Array.Clear(_infos);
    }

    /// <summary>Writes a GPU timestamp into <paramref name="queryPool"/> at <paramref name="index"/> (after all prior work).</summary>
    public void Timestamp(ulong queryPool, uint index) => _ctx.Api.CmdWriteTimestamp(_cmd, 0x2000 /* BOTTOM_OF_PIPE */, queryPool, index);

    /// <summary>Resets <paramref name="count"/> queries of <paramref name="queryPool"/>.</summary>
    public void ResetQueries(ulong queryPool, uint count) => _ctx.Api.CmdResetQueryPool(_cmd, queryPool, 0, count);

    /// <summary>Byte extent of a (possibly strided) tensor from its first byte.</summary>
    public static long Extent(Tensor t)
    {
        if (t.ElementCount == 0)
        {
            return 0;
        }
        long e = t.Traits.BlockSize > 1 || t.Nb[0] == t.Traits.TypeSize ? t.RowBytes : (t.Ne[0] - 1) * t.Nb[0] + t.Traits.TypeSize;
        for (int i = 1; i < 4; i++)
        {
            e += (t.Ne[i] - 1) * t.Nb[i];
        }
        return e;
    }

    /// <summary>Binds <paramref name="t"/> at binding <paramref name="slot"/> (0, 1, 2 sources, 3 dst, 4 and 5 extra sources) and fills its shape, strides and offset (slots 0, 1, 3).</summary>
    /// <returns>The tensor's byte offset inside the bound range.</returns>
    public uint Bind(int slot, Tensor t, ref PushConstants pc)
    {
        if (t.Buffer is not VulkanBuffer buf || !ReferenceEquals(buf.Type.Device, _device))
        {
            throw new InvalidOperationException($"Vulkan node '{_node?.Name}' ({_node?.Op}): tensor '{t.Name}' is not in memory of {_device.Name} (buffer {t.Buffer?.GetType().Name ?? "none"}); the scheduler must copy it first.");
        }
        long extent = Extent(t);
        int ci = buf.ChunkOf(t.Offset, extent);
        if (ci < 0)
        {
            throw new InvalidOperationException($"Vulkan node '{_node?.Name}' ({_node?.Op}): tensor '{t.Name}' ({extent} bytes at {t.Offset}) crosses a {_device.MaxAllocation}-byte allocation boundary of its buffer; only matmul weights may be split.");
        }
        VulkanBuffer.Chunk chunk = buf.Chunks[ci];
        long align = Math.Max(4, _device.Info.MinStorageBufferOffsetAlignment);
        long off = t.Offset - chunk.Start;
        long bas = off / align * align;
        long rel = off - bas;
        long range = Math.Min(Math.Max(chunk.Size, 4) - bas, _device.Info.MaxStorageBufferRange) & ~3L;
        if (rel + extent > range)
        {
            throw new InvalidOperationException($"Vulkan node '{_node?.Name}': tensor '{t.Name}' ({extent} bytes at {t.Offset}) does not fit one storage-buffer binding of {range} bytes.");
        }
        _infos[slot] = new VkDescriptorBufferInfo { Buffer = chunk.Handle, Offset = (ulong)bas, Range = (ulong)range };
        uint ne0 = (uint)t.Ne[0], ne1 = (uint)t.Ne[1], ne2 = (uint)t.Ne[2], ne3 = (uint)t.Ne[3];
        uint nb0 = (uint)t.Nb[0], nb1 = (uint)t.Nb[1], nb2 = (uint)t.Nb[2], nb3 = (uint)t.Nb[3];
        switch (slot)
        {
            case 0:
                (pc.Ne00, pc.Ne01, pc.Ne02, pc.Ne03, pc.Nb00, pc.Nb01, pc.Nb02, pc.Nb03, pc.Off0) = (ne0, ne1, ne2, ne3, nb0, nb1, nb2, nb3, (uint)rel);
                break;
            case 1:
                (pc.Ne10, pc.Ne11, pc.Ne12, pc.Ne13, pc.Nb10, pc.Nb11, pc.Nb12, pc.Nb13, pc.Off1) = (ne0, ne1, ne2, ne3, nb0, nb1, nb2, nb3, (uint)rel);
                break;
            case 2:
                pc.Off2 = (uint)rel;
                break;
            case 4:
            case 5:
                break;
            default:
                (pc.Ne0, pc.Ne1, pc.Ne2, pc.Ne3, pc.Nb0, pc.Nb1, pc.Nb2, pc.Nb3, pc.OffD) = (ne0, ne1, ne2, ne3, nb0, nb1, nb2, nb3, (uint)rel);
                break;
        }
        return (uint)rel;
    }

    /// <summary>One invocation per element (workgroups of 256 over a 2D grid).</summary>
    public void DispatchElements(string shader, long n, in PushConstants pc)
    {
        const uint wg = 256;
        var (x, y) = OpChecks2.Grid(n, wg, _device.Info.MaxComputeWorkGroupCountX);
        Dispatch(shader, wg, x, y, 1, pc);
    }

    /// <summary>One workgroup of <paramref name="wg"/> per row.</summary>
    public void DispatchRows(string shader, long rows, uint wg, in PushConstants pc)
    {
        var (x, y) = OpChecks2.Grid(rows, 1, _device.Info.MaxComputeWorkGroupCountX);
        Dispatch(shader, wg, x, y, 1, pc);
    }

    /// <summary>Binds the pipeline and descriptors, pushes constants and dispatches, followed by a barrier.</summary>
    public void Dispatch(string shader, uint wg, uint x, uint y, uint z, in PushConstants pc)
    {
        // Unused bindings alias the dst binding so every descriptor is valid.
        for (int i = 0; i < _infos.Length; i++)
        {
            if (_infos[i].Buffer == 0)
            {
                _infos[i] = _infos[DstBinding];
            }
        }
        ulong pipeline = _ctx.GetPipeline(shader, wg);
        ulong layout = _ctx.SetLayout;
        var ai = new VkDescriptorSetAllocateInfo { SType = 34, DescriptorPool = _pools[^1], DescriptorSetCount = 1, PSetLayouts = &layout };
        ulong set;
        int res = _ctx.Api.AllocateDescriptorSets(_ctx.Handle, &ai, &set);
        if (res != Vk.Success)
        {
            // VK_ERROR_OUT_OF_POOL_MEMORY / FRAGMENTED_POOL: continue in a new, larger pool.
            AddPool();
            ai.DescriptorPool = _pools[^1];
            Vk.Check(_ctx.Api.AllocateDescriptorSets(_ctx.Handle, &ai, &set), "vkAllocateDescriptorSets");
        }
        var writes = stackalloc VkWriteDescriptorSet[VulkanContext.BindingCount];
        fixed (VkDescriptorBufferInfo* infos = _infos)
        {
            for (int i = 0; i < VulkanContext.BindingCount; i++)
            {
                writes[i] = new VkWriteDescriptorSet { SType = 35, DstSet = set, DstBinding = (uint)i, DescriptorCount = 1, DescriptorType = Vk.DescriptorTypeStorageBuffer, PBufferInfo = infos + i };
            }
            _ctx.Api.UpdateDescriptorSets(_ctx.Handle, VulkanContext.BindingCount, writes, 0, null);
        }
        _ctx.Api.CmdBindPipeline(_cmd, Vk.PipelineBindPointCompute, pipeline);
        _ctx.Api.CmdBindDescriptorSets(_cmd, Vk.PipelineBindPointCompute, _ctx.PipelineLayout, 0, 1, &set, 0, null);
        PushConstants copy = pc;
        _ctx.Api.CmdPushConstants(_cmd, _ctx.PipelineLayout, Vk.ShaderStageCompute, 0, (uint)sizeof(PushConstants), &copy);
        _ctx.Api.CmdDispatch(_cmd, x, y, z);
        _ctx.Barrier(_cmd);
        Dispatches++;
    }
}

internal static class OpChecks2
{
    public static (uint X, uint Y) Grid(long n, uint wg, uint maxX) => Ops.OpChecks.Grid(n, wg, Math.Min(maxX, 65535u));
}
