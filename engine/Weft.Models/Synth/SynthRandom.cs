namespace Weft.Models.Synth;

/// <summary>
/// A small, fully specified random source for synthetic weights: SplitMix64 seeded from (seed, tensor name), normals
/// by Marsaglia's polar method with a logarithm computed here from + - * / and sqrt only (all correctly rounded
/// IEEE operations), so synthetic files are byte-identical across .NET versions, operating systems and CPUs (the
/// platform's Math.Log and Math.SinCos may differ in the last bit between C runtimes).
/// </summary>
public sealed class SynthRandom
{
    private ulong _state;
    private float _spare;
    private bool _hasSpare;

    /// <summary>A stream for <paramref name="seed"/> and <paramref name="stream"/> (a tensor name).</summary>
    public SynthRandom(ulong seed, string stream)
    {
        // FNV-1a of the name, mixed with the seed, so every tensor has its own independent stream and the output
        // does not depend on the order tensors are generated in.
        ulong h = 14695981039346656037UL;
        foreach (char c in stream)
        {
            h = (h ^ c) * 1099511628211UL;
        }
        _state = seed ^ Mix(h);
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Mix(_state);
    }

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A standard normal sample.</summary>
    public float NextNormal()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spare;
        }
        double u, v, s;
        do
        {
            u = 2.0 * NextDouble() - 1.0;
            v = 2.0 * NextDouble() - 1.0;
            s = u * u + v * v;
        }
        while (s >= 1.0 || s == 0.0);
        double f = Math.Sqrt(-2.0 * Log(s) / s);
        _spare = (float)(v * f);
        _hasSpare = true;
        return (float)(u * f);
    }

    private const double Ln2 = 0.69314718055994530942;
    private const double Sqrt2 = 1.41421356237309504880;

    /// <summary>
    /// Natural logarithm of a positive normal double (no NaN, infinity or subnormal handling) from IEEE-exact operations only: x = m * 2^e with m in
    /// [sqrt(1/2), sqrt(2)), ln m = 2 atanh(t) with t = (m - 1) / (m + 1), |t| &lt; 0.172, summed to t^23 (error below 1e-17).
    /// </summary>
    public static double Log(double x)
    {
        long bits = BitConverter.DoubleToInt64Bits(x);
        int e = (int)((bits >> 52) & 0x7FF) - 1023;
        double m = BitConverter.Int64BitsToDouble((bits & 0x000FFFFFFFFFFFFFL) | 0x3FF0000000000000L);
        if (m >= Sqrt2)
        {
            m *= 0.5;
            e++;
        }
        double t = (m - 1.0) / (m + 1.0);
        double t2 = t * t;
        // Horner form of 1 + t^2/3 + t^4/5 + ... + t^22/23, coefficients written out so they are compile-time constants.
        double sum = 1.0 / 23;
        sum = sum * t2 + 1.0 / 21;
        sum = sum * t2 + 1.0 / 19;
        sum = sum * t2 + 1.0 / 17;
        sum = sum * t2 + 1.0 / 15;
        sum = sum * t2 + 1.0 / 13;
        sum = sum * t2 + 1.0 / 11;
        sum = sum * t2 + 1.0 / 9;
        sum = sum * t2 + 1.0 / 7;
        sum = sum * t2 + 1.0 / 5;
        sum = sum * t2 + 1.0 / 3;
        sum = sum * t2 + 1.0;
        return 2.0 * t * sum + e * Ln2;
    }

    /// <summary>Fills <paramref name="dst"/> with normal samples times <paramref name="scale"/>.</summary>
    public void FillNormal(Span<float> dst, float scale)
    {
        for (int i = 0; i < dst.Length; i++)
        {
            dst[i] = NextNormal() * scale;
        }
    }
}
