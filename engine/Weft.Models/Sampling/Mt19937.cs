namespace Weft.Models.Sampling;

/// <summary>
/// The 32-bit Mersenne Twister (std::mt19937), as llama.cpp seeds its samplers with: the same seed gives the same
/// stream as C++'s <c>std::mt19937</c>. <see cref="NextCanonical"/> follows <c>std::generate_canonical&lt;double, 53&gt;</c>.
/// </summary>
public sealed class Mt19937
{
    private const int N = 624;
    private const int M = 397;
    private readonly uint[] _mt = new uint[N];
    private int _index;

    /// <summary>Seeds the generator as std::mt19937(seed) does.</summary>
    public Mt19937(uint seed)
    {
        _mt[0] = seed;
        for (int i = 1; i < N; i++)
        {
            _mt[i] = unchecked(1812433253u * (_mt[i - 1] ^ (_mt[i - 1] >> 30)) + (uint)i);
        }
        _index = N;
    }

    /// <summary>The next 32-bit output.</summary>
    public uint NextUInt32()
    {
        if (_index >= N)
        {
            Twist();
        }
        uint y = _mt[_index++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9D2C5680u;
        y ^= (y << 15) & 0xEFC60000u;
        y ^= y >> 18;
        return y;
    }

    /// <summary>A double in [0, 1) built from two outputs, as libstdc++'s generate_canonical&lt;double, 53&gt;.</summary>
    public double NextCanonical()
    {
        double lo = NextUInt32();
        double hi = NextUInt32();
        double r = (lo + hi * 4294967296.0) / 18446744073709551616.0;
        // generate_canonical may round up to 1.0; the standard library then returns the largest value below 1.
        return r >= 1.0 ? Math.BitDecrement(1.0) : r;
    }

    private void Twist()
    {
        for (int i = 0; i < N; i++)
        {
            uint y = (_mt[i] & 0x80000000u) | (_mt[(i + 1) % N] & 0x7FFFFFFFu);
            uint v = _mt[(i + M) % N] ^ (y >> 1);
            if ((y & 1) != 0)
            {
                v ^= 0x9908B0DFu;
            }
            _mt[i] = v;
        }
        _index = 0;
    }
}
