using Weft.Core;
using Weft.Models.Llama;
using Weft.Search.Vectors;
using Weft.Tests;
using Weft.Vulkan;

namespace Weft.Search.Tests;

/// <summary>
/// Exact search through the PairwiseDistance op on Vulkan (<see cref="ExactSearchEngine"/>, <see cref="ExactIndex"/> with
/// a backend): SIFT ground truth, agreement with the CPU SIMD scan for every metric, label filters, a base split into
/// many chunks, re-scoring, and the CPU backend path. No Vulkan device: Inconclusive, or a failure under CI=true (as in
/// Weft.Vulkan.Tests).
/// </summary>
public sealed class ExactVulkanTests
{
    private static float[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    [Test]
    public void VulkanBatchesReproduceSiftSmallGroundTruthAndTheCpuScanBitForBit()
    {
        VulkanTestDevice.DeviceOrSkip(requireEnabled: true);
        (float[] b, int n, int dim) = VecsFile.ReadFvecs(TestAssets.Require("ann/siftsmall_base.fvecs"));
        (float[] q, int nq, _) = VecsFile.ReadFvecs(TestAssets.Require("ann/siftsmall_query.fvecs"));
        (int[] gt, _, int gk) = VecsFile.ReadIvecs(TestAssets.Require("ann/siftsmall_groundtruth.ivecs"));
        using var gpu = new ExactIndex(b, n, dim, DistanceMetric.L2, BackendChoice.Vulkan, threads: 2);
        Assert.That(gpu.Engine, Is.Not.Null, gpu.BackendNote);
        Assert.That(gpu.Engine!.OnDevice, Is.True);
        SearchHit[][] res = gpu.SearchBatch(q, nq, 100, threads: 2);
        SearchHit[][] cpu = new ExactIndex(b, n, dim).SearchBatch(q, nq, 100, threads: 2);
        int exactIds = 0;
        for (int i = 0; i < nq; i++)
        {
            Assert.That(res[i], Has.Length.EqualTo(100));
            for (int r = 0; r < 100; r++)
            {
                // Ground truth: same id, or an exact tie (the ground-truth id's distance, recomputed, equals ours).
                int id = gt[i * gk + r];
                double d = 0;
                for (int j = 0; j < dim; j++)
                {
                    double x = q[i * dim + j] - b[id * dim + j];
                    d += x * x;
                }
                Assert.That((double)res[i][r].Distance, Is.EqualTo(d), $"query {i} rank {r}: distance of ground-truth id {id}");
                exactIds += res[i][r].Label == id ? 1 : 0;
                // SIFT components are integers, so every partial sum is exact: both paths give the same bits and ids.
                Assert.That(res[i][r], Is.EqualTo(cpu[i][r]), $"query {i} rank {r}: Vulkan vs CPU scan");
            }
        }
        TestContext.Out.WriteLine($"{exactIds} of {nq * 100} ranks have the ground-truth id (the others are exact ties); {gpu.BackendNote}");
        Assert.That(exactIds, Is.GreaterThan(nq * 100 * 99 / 100));
    }

    [TestCase(DistanceMetric.L2, 37)]
    [TestCase(DistanceMetric.L2, 128)]
    [TestCase(DistanceMetric.InnerProduct, 64)]
    [TestCase(DistanceMetric.Cosine, 129)]
    public void VulkanAgreesWithTheCpuScanOnRandomData(DistanceMetric metric, int dim)
    {
        VulkanTestDevice.DeviceOrSkip(requireEnabled: true);
        const int n = 2500, nq = 70, k = 10;
        float[] b = Random(n * dim, 3), q = Random(nq * dim, 4);
        using var gpu = new ExactIndex(b, n, dim, metric, BackendChoice.Vulkan, threads: 2);
        var cpu = new ExactIndex(b, n, dim, metric);
        SearchHit[][] got = gpu.SearchBatch(q, nq, k, threads: 2), want = cpu.SearchBatch(q, nq, k, threads: 2);
        AssertSameUpToRounding(got, want, k);
    }

    // Same distance at every rank up to float summation order; an id may differ only where two distances are that close.
    private static void AssertSameUpToRounding(SearchHit[][] got, SearchHit[][] want, int k)
    {
        int differentIds = 0;
        for (int i = 0; i < want.Length; i++)
        {
            Assert.That(got[i], Has.Length.EqualTo(Math.Min(k, want[i].Length)));
            for (int r = 0; r < got[i].Length; r++)
            {
                Assert.That(got[i][r].Distance, Is.EqualTo(want[i][r].Distance).Within(2e-5f * (1 + Math.Abs(want[i][r].Distance))), $"query {i} rank {r}");
                if (got[i][r].Label != want[i][r].Label)
                {
                    differentIds++;
                    float gap = Math.Abs(want[i][r].Distance - want[i][Math.Min(r + 1, want[i].Length - 1)].Distance);
                    float gapPrev = Math.Abs(want[i][r].Distance - want[i][Math.Max(r - 1, 0)].Distance);
                    Assert.That(Math.Min(gap, gapPrev), Is.LessThan(1e-4f * (1 + Math.Abs(want[i][r].Distance))), $"query {i} rank {r}: ids differ without a near tie");
                }
            }
        }
        Assert.That(differentIds, Is.LessThanOrEqualTo(want.Length / 10), "ids differing at near ties");
    }

    [Test]
    public void FilterAndManySmallChunksGiveTheCpuResults()
    {
        VulkanTestDevice.DeviceOrSkip(requireEnabled: true);
        const int n = 3001, dim = 24, nq = 33, k = 7;
        var rng = new Random(8);
        // Integer-valued data: exact sums, so the results must be identical.
        float[] b = Enumerable.Range(0, n * dim).Select(_ => (float)rng.Next(-20, 21)).ToArray();
        float[] q = Enumerable.Range(0, nq * dim).Select(_ => (float)rng.Next(-20, 21)).ToArray();
        // 4 KiB chunks: 42 base vectors per chunk, 72 chunks, 42 queries per batch.
        using ExactSearchEngine engine = ExactSearchEngine.Create(b, n, dim, DistanceMetric.L2, BackendChoice.Vulkan, threads: 2, maxChunkBytes: 4096);
        Assert.That(engine.ChunkCount, Is.GreaterThan(50));
        var cpu = new ExactIndex(b, n, dim);
        var odd = new PredicateFilter(l => l % 3 == 1);
        SearchHit[][] got = engine.SearchBatch(q, nq, k, odd), want = cpu.SearchBatch(q, nq, k, odd);
        for (int i = 0; i < nq; i++)
        {
            Assert.That(got[i], Is.EqualTo(want[i]), $"query {i}");
            Assert.That(got[i].All(h => h.Label % 3 == 1));
        }
        // More queries than one batch holds, unfiltered, and k above the count of allowed rows.
        float[] many = Enumerable.Range(0, 100 * dim).Select(_ => (float)rng.Next(-20, 21)).ToArray();
        Assert.That(engine.BatchSize, Is.LessThan(100));
        SearchHit[][] g2 = engine.SearchBatch(many, 100, 5, default(AllowAllFilter)), w2 = cpu.SearchBatch(many, 100, 5);
        Assert.That(g2, Is.EqualTo(w2));
        var few = new PredicateFilter(l => l < 3);
        Assert.That(engine.SearchBatch(many.AsSpan(0, dim), 1, 10, few)[0].Select(h => h.Label), Is.EqualTo(new long[] { 0, 1, 2 }).AsCollection.Or.EquivalentTo(new long[] { 0, 1, 2 }));
    }

    [Test]
    public void RescoreGivesTheExactDistancesOfEachQuerysCandidates()
    {
        VulkanTestDevice.DeviceOrSkip(requireEnabled: true);
        const int n = 900, dim = 40, nq = 12, per = 9;
        float[] b = Random(n * dim, 13), q = Random(nq * dim, 14);
        var rng = new Random(15);
        int[] cand = Enumerable.Range(0, nq * per).Select(i => i % per == per - 1 ? -1 : rng.Next(n)).ToArray();
        foreach (BackendChoice choice in new[] { BackendChoice.Vulkan, BackendChoice.Cpu })
        {
            // Two chunks on the device (20 KiB each), to cover candidates from both.
            using ExactSearchEngine engine = ExactSearchEngine.Create(b, n, dim, DistanceMetric.InnerProduct, choice, threads: 2, maxChunkBytes: 100_000);
            Assert.That(engine.ChunkCount, Is.EqualTo(2));
            var dist = new float[nq * per];
            engine.Rescore(q, nq, cand, per, dist);
            for (int j = 0; j < nq; j++)
            {
                for (int c = 0; c < per; c++)
                {
                    int id = cand[j * per + c];
                    if (id < 0)
                    {
                        Assert.That(float.IsNaN(dist[j * per + c]), $"{choice}: padding gives NaN");
                        continue;
                    }
                    double dot = 0;
                    for (int x = 0; x < dim; x++)
                    {
                        dot += (double)q[j * dim + x] * b[id * dim + x];
                    }
                    Assert.That(dist[j * per + c], Is.EqualTo(1 - dot).Within(1e-5), $"{choice}: query {j} candidate {id}");
                }
            }
            Assert.Throws<ArgumentException>(() => engine.Rescore(q, nq, cand.AsSpan(1), per, dist));
            Assert.Throws<ArgumentException>(() => engine.Rescore(q, 1, Enumerable.Repeat(n, per).ToArray(), per, dist));
        }
    }

    [Test]
    public void TheCpuBackendEngineGivesTheScansBits()
    {
        // No device needed: the op on the CPU backend keeps DistanceKernels' summation order.
        const int n = 1234, dim = 77, nq = 20, k = 15;
        float[] b = Random(n * dim, 21), q = Random(nq * dim, 22);
        foreach (DistanceMetric metric in new[] { DistanceMetric.L2, DistanceMetric.InnerProduct })
        {
            using ExactSearchEngine engine = ExactSearchEngine.Create(b, n, dim, metric, BackendChoice.Cpu, threads: 2);
            Assert.That(engine.OnDevice, Is.False);
            SearchHit[][] got = engine.SearchBatch(q, nq, k, default(AllowAllFilter));
            SearchHit[][] want = new ExactIndex(b, n, dim, metric).SearchBatch(q, nq, k, threads: 2);
            Assert.That(got, Is.EqualTo(want), metric.ToString());
        }
    }

    [Test]
    public void CpuChoiceKeepsTheSimdScanAndBadArgumentsAreRejected()
    {
        float[] b = Random(10 * 8, 1);
        using var index = new ExactIndex(b, 10, 8, DistanceMetric.L2, BackendChoice.Cpu);
        Assert.That(index.Engine, Is.Null);
        Assert.That(index.BackendNote, Does.Contain("CPU SIMD"));
        Assert.Throws<ArgumentException>(() => ExactSearchEngine.Create(b, 11, 8, DistanceMetric.L2, BackendChoice.Cpu));
        using ExactSearchEngine engine = ExactSearchEngine.Create(b, 10, 8, DistanceMetric.L2, BackendChoice.Cpu);
        Assert.Throws<ArgumentException>(() => engine.SearchBatch(b.AsSpan(0, 7), 1, 3, default(AllowAllFilter)));
        Assert.Throws<ArgumentOutOfRangeException>(() => engine.SearchBatch(b.AsSpan(0, 8), 1, 0, default(AllowAllFilter)));
        Assert.That(engine.SearchBatch(b.AsSpan(0, 8), 1, 50, default(AllowAllFilter))[0], Has.Length.EqualTo(10));
        engine.Dispose();
        Assert.Throws<ObjectDisposedException>(() => engine.SearchBatch(b.AsSpan(0, 8), 1, 3, default(AllowAllFilter)));
    }
}
