namespace Weft.Core;

/// <summary>
/// An execution stream on a <see cref="IDevice"/>: computes graphs whose tensors are placed in buffers its device
/// supports. Compute may be asynchronous; <see cref="Synchronize"/> waits for completion. See <see cref="Scheduler"/>.
/// </summary>
public interface IBackend : IDisposable
{
    /// <summary>Name for errors and profiles.</summary>
    string Name { get; }

    /// <summary>The device this backend runs on.</summary>
    IDevice Device { get; }

    /// <summary>Computes every node of <paramref name="graph"/> in order. Every node and source must be placed.</summary>
    /// <returns><see cref="Status.Success"/>, or why the graph could not be computed.</returns>
    Status Compute(Graph graph);

    /// <summary>Waits until all submitted work has finished.</summary>
    void Synchronize();

    /// <summary>
    /// (optional) Starts copying <paramref name="source"/>'s bytes (a tensor on any backend) into <paramref name="destination"/>
    /// (same layout, placed on this backend) asynchronously; returns false when the backend cannot, and the caller then
    /// copies through host memory. The default returns false.
    /// </summary>
    bool TryCopyTensorAsync(Tensor source, Tensor destination) => false;
}
