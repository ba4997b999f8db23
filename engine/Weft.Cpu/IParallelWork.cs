namespace Weft.Cpu;

/// <summary>Work that <see cref="WorkerPool.Run"/> runs on every thread of the pool.</summary>
public interface IParallelWork
{
    /// <summary>Runs thread <paramref name="ith"/>'s part of the work, 0 ≤ ith &lt; <paramref name="nth"/>. Thread 0 is the caller.</summary>
    void Execute(int ith, int nth);
}
