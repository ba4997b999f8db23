using System.Diagnostics;

namespace Weft.Cpu;

/// <summary>
/// Persistent worker threads for graph evaluation: <see cref="Run"/> hands one <see cref="IParallelWork"/> to every
/// thread (the caller is thread 0) and returns when all are done. Between runs the workers spin for a short while
/// (decode submits a graph every few hundred microseconds), then sleep on a monitor so an idle pool costs nothing.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    // How long an idle worker spins for the next run before sleeping (in Stopwatch ticks: 200 µs).
    private static readonly long s_idleSpinTicks = Stopwatch.Frequency / 5000;
    private readonly Thread[] _threads;
    private readonly object _lock = new();
    private IParallelWork? _work;
    private long _generation;
    private int _pending;
    private bool _stop;
    private Exception? _workerFailure;

    /// <summary>Creates a pool of <paramref name="threads"/> threads in all (the caller of <see cref="Run"/> counts as one).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is below 1 or above 1024.</exception>
    public WorkerPool(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(threads, 1024);
        Threads = threads;
        Barrier = new SpinBarrier(threads);
        _threads = new Thread[threads - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            int ith = i + 1;
            _threads[i] = new Thread(() => WorkerLoop(ith)) { IsBackground = true, Name = $"Weft CPU worker {ith}" };
            _threads[i].Start();
        }
    }

    /// <summary>Number of threads, the caller included.</summary>
    public int Threads { get; }

    /// <summary>A spinning barrier over all <see cref="Threads"/> threads, for use inside the work.</summary>
    public SpinBarrier Barrier { get; }

    /// <summary>Runs <paramref name="work"/> on every thread and waits for all. Not reentrant; one run at a time.</summary>
    /// <exception cref="ObjectDisposedException">The pool was disposed.</exception>
    /// <exception cref="AggregateException">The work threw on a worker thread (exceptions on the caller propagate as they are).</exception>
    public void Run(IParallelWork work)
    {
        ArgumentNullException.ThrowIfNull(work);
        ObjectDisposedException.ThrowIf(_stop, this);
        if (_threads.Length == 0)
        {
            work.Execute(0, 1);
            return;
        }
        _work = work;
        _workerFailure = null;
        Volatile.Write(ref _pending, _threads.Length);
        lock (_lock)
        {
            _generation++;
            Monitor.PulseAll(_lock);
        }
        try
        {
            work.Execute(0, Threads);
        }
        finally
        {
            var spin = new SpinWait();
            while (Volatile.Read(ref _pending) != 0)
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }
            _work = null;
        }
        if (_workerFailure is Exception e)
        {
            throw new AggregateException("A CPU worker thread failed.", e);
        }
    }

    private void WorkerLoop(int ith)
    {
        long seen = 0;
        while (true)
        {
            long start = Stopwatch.GetTimestamp();
            var spin = new SpinWait();
            while (Volatile.Read(ref _generation) == seen && !Volatile.Read(ref _stop))
            {
                if (Stopwatch.GetTimestamp() - start < s_idleSpinTicks)
                {
                    spin.SpinOnce(sleep1Threshold: -1);
                    continue;
                }
                lock (_lock)
                {
                    while (_generation == seen && !_stop)
                    {
                        Monitor.Wait(_lock);
                    }
                }
            }
            if (Volatile.Read(ref _stop))
            {
                return;
            }
            seen = Volatile.Read(ref _generation);
            try
            {
                _work!.Execute(ith, Threads);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _workerFailure, e, null);
            }
            Interlocked.Decrement(ref _pending);
        }
    }

    /// <summary>Stops and joins the worker threads.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_stop)
            {
                return;
            }
            _stop = true;
            Monitor.PulseAll(_lock);
        }
        foreach (Thread t in _threads)
        {
            t.Join();
        }
    }
}
