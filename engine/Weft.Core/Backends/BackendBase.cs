namespace Weft.Core;

/// <summary>
/// Base class for backends: the public members validate their arguments and state, then call the protected
/// <c>…Core</c> members that a backend implements.
/// </summary>
public abstract class BackendBase : IBackend
{
    private bool _disposed;

    /// <inheritdoc/>
    public abstract string Name { get; }

    /// <inheritdoc/>
    public abstract IDevice Device { get; }

    /// <summary>True once <see cref="Dispose()"/> has run.</summary>
    protected bool IsDisposed => _disposed;

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="graph"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The backend was disposed.</exception>
    public Status Compute(Graph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return ComputeCore(graph);
    }

    /// <inheritdoc/>
    /// <exception cref="ObjectDisposedException">The backend was disposed.</exception>
    public void Synchronize()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        SynchronizeCore();
    }

    /// <summary>Computes a validated graph.</summary>
    protected abstract Status ComputeCore(Graph graph);

    /// <summary>Waits for submitted work.</summary>
    protected abstract void SynchronizeCore();

    /// <summary>Releases the backend's resources (once).</summary>
    protected virtual void Dispose(bool disposing)
    {
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        Dispose(true);
        GC.SuppressFinalize(this);
    }
}
