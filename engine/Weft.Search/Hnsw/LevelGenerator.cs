namespace Weft.Search.Hnsw;

/// <summary>
/// The level draws of hnswlib, value for value: <c>std::minstd_rand0</c> (hnswlib's <c>std::default_random_engine</c>
/// under libstdc++) seeded with the index seed, <c>std::uniform_real_distribution&lt;double&gt;(0, 1)</c> as libstdc++
/// computes it (<c>generate_canonical</c>: two engine draws per value), level = <c>(int)(-ln(u) · mult)</c>.
/// With the same seed, insertion order and parameters, a single-threaded build gives every node the level hnswlib
/// gives it, so the two graphs differ only where float distances round differently.
/// </summary>
/// <remarks>Not thread-safe; the index draws under a lock.</remarks>
internal sealed class LevelGenerator
{
    private const uint Modulus = 2147483647; // 2^31 - 1
    private const ulong Multiplier = 16807;
    private const double Range = 2147483646.0; // max - min + 1 of the engine (min 1, max 2^31 - 2)
    private uint _x;

    /// <summary>Seeds the engine as <c>linear_congruential_engine::seed</c> does (a multiple of the modulus gives 1).</summary>
    public LevelGenerator(int seed)
    {
        ulong s = unchecked((ulong)(long)seed) % Modulus;
        _x = s == 0 ? 1u : (uint)s;
    }

    /// <summary>The next engine value (1 .. 2^31 - 2).</summary>
    public uint NextRaw()
    {
        _x = (uint)(Multiplier * _x % Modulus);
        return _x;
    }

    /// <summary>The next uniform value in [0, 1), as libstdc++'s <c>generate_canonical&lt;double, 53&gt;</c>.</summary>
    public double NextUniform()
    {
        double sum = NextRaw() - 1.0;
        double tmp = Range;
        sum += (NextRaw() - 1.0) * tmp;
        tmp *= Range;
        double u = sum / tmp;
        return u >= 1.0 ? Math.BitDecrement(1.0) : u;
    }

    /// <summary>The next level, <c>(int)(-ln(u) · mult)</c>, capped at <paramref name="maxLevel"/>.</summary>
    public int NextLevel(double mult, int maxLevel)
    {
        double l = -Math.Log(NextUniform()) * mult;
        return l >= maxLevel ? maxLevel : (int)l;
    }
}
