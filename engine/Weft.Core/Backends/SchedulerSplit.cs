namespace Weft.Core;

/// <summary>A tensor that the <see cref="Scheduler"/> copies from one backend's memory into another's before a split runs.</summary>
/// <param name="Source">The tensor as computed (or placed) on its own backend.</param>
/// <param name="Copy">The copy in the consuming backend's memory; the split's nodes read it instead of <paramref name="Source"/>.</param>
public readonly record struct TensorCopy(Tensor Source, Tensor Copy);

/// <summary>A run of consecutive nodes that one backend computes, with the tensors copied in before it runs.</summary>
public sealed class SchedulerSplit
{
    internal SchedulerSplit(int backendIndex, IBackend backend)
    {
        BackendIndex = backendIndex;
        Backend = backend;
    }

    /// <summary>Index of <see cref="Backend"/> in <see cref="Scheduler.Backends"/>.</summary>
    public int BackendIndex { get; }

    /// <summary>The backend computing the split.</summary>
    public IBackend Backend { get; }

    /// <summary>The nodes, in evaluation order.</summary>
    public IReadOnlyList<Tensor> Nodes => NodeList;

    /// <summary>Tensors copied into this backend's memory before the split runs.</summary>
    public IReadOnlyList<TensorCopy> Inputs => InputList;

    /// <summary>The graph handed to <see cref="IBackend.Compute"/>.</summary>
    public Graph Graph { get; internal set; } = null!;

    internal List<Tensor> NodeList { get; } = new();
    internal List<TensorCopy> InputList { get; } = new();
    internal List<(Tensor Node, int Slot, Tensor Original, Tensor Copy)> Rewrites { get; } = new();

    /// <inheritdoc/>
    public override string ToString() => $"{Backend.Name}: {NodeList.Count} nodes, {InputList.Count} copies in";
}
