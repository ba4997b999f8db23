using Weft.Core;
using Weft.Vulkan.Interop;

namespace Weft.Vulkan;

/// <summary>
/// An execution stream on a <see cref="VulkanDevice"/>: records a whole graph into one command buffer (a barrier
/// between dispatches) and submits it. Nodes must be <see cref="IDevice.Supports">supported</see> and placed in
/// this device's memory (the <see cref="Scheduler"/> takes care of both).
/// </summary>
public sealed unsafe partial class VulkanBackend : BackendBase
{
    private readonly VulkanDevice _device;

    internal VulkanBackend(VulkanDevice device)
    {
        _device = device;
    }

    /// <inheritdoc/>
    public override string Name => _device.Name;

    /// <inheritdoc/>
    public override IDevice Device => _device;

    /// <summary>Dispatches recorded by the last <see cref="BackendBase.Compute"/>.</summary>
    public int LastDispatchCount { get; private set; }

    /// <inheritdoc/>
    protected override Status ComputeCore(Graph graph)
    {
        IReadOnlyList<Tensor> nodes = graph.Nodes;
        foreach (Tensor n in nodes)
        {
            if (!_device.Supports(n))
            {
                throw new NotSupportedException($"{Name}: node '{n.Name}' ({n.Op}, {n.Traits.Name} {n.Ne}) is not supported on Vulkan; run the graph through a Scheduler with the CPU backend as fallback.");
            }
        }
        return CheckEnabled ? ComputeChecked(graph) : ComputeNodes(nodes);
    }

    private Status ComputeNodes(IReadOnlyList<Tensor> nodes)
    {
        VulkanContext ctx = _device.Context;
        bool profile = Profile && _device.Info.TimestampValidBits > 0;
        ulong createdQueries = 0;
        uint queryCount = (uint)(nodes.Count + 1);
        if (profile)
        {
            var qci = new VkQueryPoolCreateInfo { SType = 11, QueryType = 2 /* TIMESTAMP */, QueryCount = queryCount };
            Vk.Check(ctx.Api.CreateQueryPool(ctx.Handle, &qci, null, &createdQueries), "vkCreateQueryPool");
        }
        ulong queries = createdQueries;
        VulkanRecorder? rec = null;
        var timed = new List<Tensor>();
        try
        {
            int dispatches = 0;
            ctx.Submit(cmd =>
            {
                rec = new VulkanRecorder(ctx, _device, cmd, nodes.Count);
                if (profile)
                {
                    rec.ResetQueries(queries, queryCount);
                    rec.Timestamp(queries, 0);
                }
                foreach (Tensor n in nodes)
                {
                    if (VulkanOpTable.IsView(n.Op))
                    {
                        continue;
                    }
                    rec.Begin(n);
                    VulkanOpTable.Find(n)!.Record(rec, n);
                    if (profile)
                    {
                        timed.Add(n);
                        rec.Timestamp(queries, (uint)timed.Count);
                    }
                }
                dispatches = rec.Dispatches;
            });
            LastDispatchCount = dispatches;
            TotalDispatchCount += dispatches;
            if (profile)
            {
                var ticks = new ulong[timed.Count + 1];
                fixed (ulong* pt = ticks)
                {
                    Vk.Check(ctx.Api.GetQueryPoolResults(ctx.Handle, queries, 0, (uint)ticks.Length, (nuint)(ticks.Length * 8), pt, 8, 1 | 2), "vkGetQueryPoolResults");
                }
                var entries = new List<NodeTiming>(timed.Count);
                for (int i = 0; i < timed.Count; i++)
                {
                    double us = (ticks[i + 1] - ticks[i]) * (double)_device.Info.TimestampPeriod / 1000.0;
                    entries.Add(new NodeTiming(timed[i].Name, timed[i].Op, us));
                }
                LastProfile = entries;
            }
        }
        catch (VulkanException)
        {
            return Status.Failed;
        }
        finally
        {
            rec?.Release();
            if (queries != 0)
            {
                ctx.Api.DestroyQueryPool(ctx.Handle, queries, null);
            }
        }
        return Status.Success;
    }

    /// <summary>GPU timestamps per node: on with <c>WEFT_VULKAN_PROFILE=1</c> or by setting this property.</summary>
    public bool Profile { get; set; } = Environment.GetEnvironmentVariable("WEFT_VULKAN_PROFILE") == "1";

    /// <summary>With <see cref="Profile"/>: GPU time of each node of the last <see cref="BackendBase.Compute"/> (empty otherwise).</summary>
    public IReadOnlyList<NodeTiming> LastProfile { get; private set; } = [];

    /// <summary>Dispatches recorded since the backend was created.</summary>
    public long TotalDispatchCount { get; private set; }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        _checkCpu?.Dispose();
    }

    /// <inheritdoc/>
    protected override void SynchronizeCore()
    {
        // Compute submits and waits; nothing is in flight between calls.
    }
}

/// <summary>GPU time of one node, from timestamps written around its dispatches.</summary>
/// <param name="Name">Node name.</param>
/// <param name="Op">Node op.</param>
/// <param name="Microseconds">Time between the end of the previous node and the end of this one.</param>
public readonly record struct NodeTiming(string Name, OpKind Op, double Microseconds);
