using System.Diagnostics;

namespace Weft.Cpu;

/// <summary>
/// A sense-reversing barrier that spins first and blocks only when the wait is long: the per-node synchronisation
/// of the worker pool costs microseconds when every thread has a core, and does not burn the time slice of a
/// thread that still has to arrive when the machine is oversubscribed.
/// </summary>
/// <remarks>
/// Waiters spin (<see cref="SpinWait"/>, which yields the core after a few rounds, never sleeping a millisecond)
/// for up to <see cref="SpinMicroseconds"/>, then sleep on a monitor. The last thread to arrive bumps the
/// generation and pulses the monitor only when somebody sleeps, so the fast path is lock-free.
/// </remarks>
public sealed class SpinBarrier : IBarrier
{
    private readonly int _participants;
    private readonly object _lock = new();
    private readonly long _spinTicks;
    private int _arrived;
    private int _generation;
    private int _sleepers;

    /// <summary>Creates a barrier for <paramref name="participants"/> threads.</summary>
    /// <param name="participants">Threads that must arrive.</param>
    /// <param name="spinMicroseconds">How long a waiter spins before blocking.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="participants"/> is below 1 or the spin time is negative.</exception>
    public SpinBarrier(int participants, int spinMicroseconds = 50)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(participants, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(spinMicroseconds);
        _participants = participants;
        SpinMicroseconds = spinMicroseconds;
        _spinTicks = Stopwatch.Frequency * spinMicroseconds / 1_000_000;
    }

    /// <summary>Number of threads that must arrive.</summary>
    public int Participants => _participants;

    /// <summary>How long a waiter spins before blocking, in microseconds.</summary>
    public int SpinMicroseconds { get; }

    /// <inheritdoc/>
    public void SignalAndWait()
    {
        if (_participants == 1)
        {
            return;
        }
        // Read the generation before arriving: the last arrival bumps it, which releases everyone of this round.
        int gen = Volatile.Read(ref _generation);
        if (Interlocked.Increment(ref _arrived) == _participants)
        {
            Volatile.Write(ref _arrived, 0);
            Interlocked.Increment(ref _generation);
            // Both sides use full fences (Interlocked): either the sleeper sees the new generation, or we see it sleeping.
            if (Volatile.Read(ref _sleepers) > 0)
            {
                lock (_lock)
                {
                    Monitor.PulseAll(_lock);
                }
            }
            return;
        }
        var spin = new SpinWait();
        long start = Stopwatch.GetTimestamp();
        while (Volatile.Read(ref _generation) == gen)
        {
            if (spin.Count < 10 || Stopwatch.GetTimestamp() - start < _spinTicks)
            {
                spin.SpinOnce(sleep1Threshold: -1);
                continue;
            }
            lock (_lock)
            {
                Interlocked.Increment(ref _sleepers);
                while (Volatile.Read(ref _generation) == gen)
                {
                    Monitor.Wait(_lock);
                }
                Interlocked.Decrement(ref _sleepers);
            }
        }
    }
}
