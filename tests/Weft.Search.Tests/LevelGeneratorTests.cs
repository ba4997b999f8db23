using Weft.Search.Hnsw;

namespace Weft.Search.Tests;

/// <summary>
/// The HNSW level draws equal hnswlib's: the engine is C++'s <c>minstd_rand0</c> (the standard fixes its 10000th
/// value), and the uniform values and levels are those a g++/libstdc++ build of hnswlib's
/// <c>std::uniform_real_distribution&lt;double&gt;(0, 1)</c> over <c>std::default_random_engine</c> seeded with 100
/// printed (recorded from that program; M = 16).
/// </summary>
public sealed class LevelGeneratorTests
{
    [Test]
    public void EngineIsMinstdRand0()
    {
        // [rand.predef]: the 10000th consecutive invocation of a default-constructed minstd_rand0 is 1043618065.
        var g = new LevelGenerator(1);
        uint v = 0;
        for (int i = 0; i < 10000; i++)
        {
            v = g.NextRaw();
        }
        Assert.That(v, Is.EqualTo(1043618065u));
        Assert.That(new LevelGenerator(0).NextRaw(), Is.EqualTo(new LevelGenerator(1).NextRaw()), "seed 0 is taken as 1");
        Assert.That(new LevelGenerator(2147483647).NextRaw(), Is.EqualTo(new LevelGenerator(1).NextRaw()), "a multiple of the modulus is taken as 1");
    }

    [Test]
    public void UniformValuesAndLevelsMatchLibstdcxx()
    {
        double[] want = [0.15377881392293621, 0.86501319254308873, 0.89591863288942764, 0.88647168710706992,
            0.46928959426852862, 0.94163720693135744, 0.45721105253834121, 0.97001933366349069];
        var g = new LevelGenerator(100);
        foreach (double w in want)
        {
            Assert.That(BitConverter.DoubleToInt64Bits(g.NextUniform()), Is.EqualTo(BitConverter.DoubleToInt64Bits(w)), $"{w:R}");
        }
        // Level histogram of the first 100,000 draws (libstdc++: 93860 5769 353 17 1).
        var h = new LevelGenerator(100);
        int[] hist = new int[8];
        double mult = 1 / Math.Log(16);
        for (int i = 0; i < 100_000; i++)
        {
            hist[h.NextLevel(mult, 64)]++;
        }
        Assert.That(hist[..5], Is.EqualTo(new[] { 93860, 5769, 353, 17, 1 }));
    }
}
