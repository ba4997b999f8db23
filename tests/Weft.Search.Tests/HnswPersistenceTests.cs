using Weft.Search.Hnsw;
using Weft.Search.Vectors;

namespace Weft.Search.Tests;

public sealed class HnswPersistenceTests
{
    private string _dir = "";

    [SetUp]
    public void CreateDir() => _dir = Directory.CreateTempSubdirectory("weft-hnsw").FullName;

    [TearDown]
    public void DeleteDir() => Directory.Delete(_dir, true);

    private static HnswIndex Make(int n, int dim, VectorStorage storage = VectorStorage.F32, int seed = 1)
    {
        var rng = new Random(seed);
        float[] data = Enumerable.Range(0, n * dim).Select(_ => (float)rng.NextDouble()).ToArray();
        var index = new HnswIndex(new HnswOptions { Dimension = dim, Storage = storage, M = 8, EfConstruction = 64, Ef = 33, Metric = DistanceMetric.L2 });
        index.AddRange(data, Enumerable.Range(0, n).Select(i => (long)i * 3).ToArray());
        return index;
    }

    [TestCase(VectorStorage.F32)]
    [TestCase(VectorStorage.Int8)]
    public void SaveLoadRoundTripGivesIdenticalResults(VectorStorage storage)
    {
        using HnswIndex a = Make(1500, 12, storage);
        a.Delete(30);
        a.Delete(33);
        string path = Path.Combine(_dir, "a.hnsw");
        a.Save(path);
        using HnswIndex b = HnswIndex.Load(path);
        Assert.That((b.Dimension, b.M, b.EfConstruction, b.Ef, b.Storage, b.Metric, b.Count, b.DeletedCount),
            Is.EqualTo((a.Dimension, a.M, a.EfConstruction, 33, storage, a.Metric, a.Count, 2)));
        var rng = new Random(3);
        for (int i = 0; i < 30; i++)
        {
            float[] q = Enumerable.Range(0, 12).Select(_ => (float)rng.NextDouble()).ToArray();
            Assert.That(b.Search(q, 10), Is.EqualTo(a.Search(q, 10)));
        }
        // The loaded index keeps working: new adds reuse the deleted slots.
        b.Add(999_999, new float[12]);
        Assert.That(b.DeletedCount, Is.EqualTo(1));
        Assert.That(b.Search(new float[12], 1)[0].Label, Is.EqualTo(999_999));
        Assert.That(Directory.GetFiles(_dir), Has.Length.EqualTo(1), "no temporary files left behind");
    }

    [Test]
    public void EmptyIndexRoundTrips()
    {
        using var a = new HnswIndex(new HnswOptions { Dimension = 3 });
        string path = Path.Combine(_dir, "e.hnsw");
        a.Save(path);
        using HnswIndex b = HnswIndex.Load(path);
        Assert.That(b.Count, Is.EqualTo(0));
        Assert.That(b.Search(new float[3], 1), Is.Empty);
    }

    [Test]
    public void SaveFailingHalfWayLeavesThePreviousIndexLoadable()
    {
        string path = Path.Combine(_dir, "idx.hnsw");
        using HnswIndex a = Make(800, 8);
        a.Save(path);
        byte[] before = File.ReadAllBytes(path);
        a.AddRange(new float[8 * 100], Enumerable.Range(0, 100).Select(i => 100_000L + i).ToArray());
        foreach (long budget in new long[] { 0, 7, 100, before.Length / 2, before.Length + 1000 })
        {
            a.FailSaveAfterBytes = budget;
            Assert.Throws<IOException>(() => a.Save(path), $"budget {budget}");
            Assert.That(File.ReadAllBytes(path), Is.EqualTo(before), "target untouched");
            using HnswIndex old = HnswIndex.Load(path);
            Assert.That(old.Count, Is.EqualTo(800));
            Assert.That(Directory.GetFiles(_dir), Has.Length.EqualTo(1), "temporary file removed");
        }
        a.FailSaveAfterBytes = -1;
        a.Save(path);
        using HnswIndex fresh = HnswIndex.Load(path);
        Assert.That(fresh.Count, Is.EqualTo(900));
    }

    [Test]
    public void PartiallyWrittenFileGivesAClearError()
    {
        // What a crash without the temp-file protocol would leave: every truncation must be rejected clearly.
        string path = Path.Combine(_dir, "t.hnsw");
        using HnswIndex a = Make(300, 8);
        a.Save(path);
        byte[] full = File.ReadAllBytes(path);
        var rng = new Random(5);
        for (int i = 0; i < 60; i++)
        {
            int len = i < 20 ? i : rng.Next(full.Length);
            File.WriteAllBytes(path, full[..len]);
            Assert.Throws<HnswFormatException>(() => HnswIndex.Load(path), $"length {len}");
        }
    }

    [Test]
    public void FuzzedFilesGiveClearErrors()
    {
        string path = Path.Combine(_dir, "f.hnsw");
        using HnswIndex a = Make(400, 8);
        a.Save(path);
        byte[] full = File.ReadAllBytes(path);
        var rng = new Random(20230828);
        for (int i = 0; i < 300; i++)
        {
            byte[] bad = (byte[])full.Clone();
            int flips = 1 + rng.Next(4);
            for (int f = 0; f < flips; f++)
            {
                int pos = i < 100 ? rng.Next(Math.Min(200, bad.Length)) : rng.Next(bad.Length);
                bad[pos] ^= (byte)(1 + rng.Next(255));
            }
            File.WriteAllBytes(path, bad);
            HnswFormatException ex = Assert.Throws<HnswFormatException>(() => HnswIndex.Load(path), $"case {i}")!;
            Assert.That(ex.Message, Does.Contain(path));
        }
        File.WriteAllBytes(path, "not an index at all, just some text here........................................................."u8.ToArray());
        Assert.That(Assert.Throws<HnswFormatException>(() => HnswIndex.Load(path))!.Message, Does.Contain("not a Weft HNSW index"));
    }

    [Test]
    public void TheLz4ToolReadsTheIndexFile()
    {
        if (!File.Exists("/usr/bin/lz4"))
        {
            Assert.Inconclusive("lz4 command-line tool not installed");
        }
        string path = Path.Combine(_dir, "z.hnsw");
        using HnswIndex a = Make(200, 8);
        a.Save(path);
        var psi = new System.Diagnostics.ProcessStartInfo("/usr/bin/lz4", ["-t", path]) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var p = System.Diagnostics.Process.Start(psi)!;
        p.WaitForExit();
        Assert.That(p.ExitCode, Is.EqualTo(0), p.StandardError.ReadToEnd());
    }
}
