using Weft.Search.Hnsw;
using Weft.Search.Vectors;
using Weft.Tests;

namespace Weft.Search.Tests;

public sealed class HnswIndexTests
{
    private static float[] RandomData(int n, int dim, int seed)
    {
        var rng = new Random(seed);
        float[] d = new float[n * dim];
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = (float)rng.NextDouble();
        }
        return d;
    }

    private static long[] Labels(int n, long offset = 0) => Enumerable.Range(0, n).Select(i => i + offset).ToArray();

    private static double Recall(SearchHit[] found, SearchHit[] truth)
    {
        var t = truth.Select(h => h.Label).ToHashSet();
        return truth.Length == 0 ? 1 : found.Count(h => t.Contains(h.Label)) / (double)truth.Length;
    }

    private static HnswIndex Build(float[] data, int dim, DistanceMetric metric = DistanceMetric.L2, VectorStorage storage = VectorStorage.F32, int threads = 1, int m = 16)
    {
        var index = new HnswIndex(new HnswOptions { Dimension = dim, Metric = metric, Storage = storage, M = m, EfConstruction = 100, Capacity = 16 });
        index.AddRange(data, Labels(data.Length / dim), threads);
        return index;
    }

    private static double MeanRecall(HnswIndex index, float[] queries, int dim, int k, int ef, Func<long, bool>? filter = null)
    {
        int nq = queries.Length / dim;
        double sum = 0;
        for (int i = 0; i < nq; i++)
        {
            ReadOnlySpan<float> q = queries.AsSpan(i * dim, dim);
            sum += Recall(index.Search(q, k, ef, filter), index.SearchExact(q, k, filter));
        }
        return sum / nq;
    }

    [Test]
    public void ExactSearchReproducesSiftSmallGroundTruth()
    {
        (float[] b, int n, int dim) = VecsFile.ReadFvecs(TestAssets.Require("ann/siftsmall_base.fvecs"));
        (float[] q, int nq, _) = VecsFile.ReadFvecs(TestAssets.Require("ann/siftsmall_query.fvecs"));
        (int[] gt, _, int gk) = VecsFile.ReadIvecs(TestAssets.Require("ann/siftsmall_groundtruth.ivecs"));
        var exact = new ExactIndex(b, n, dim);
        SearchHit[][] res = exact.SearchBatch(q, nq, 100, threads: 2);
        for (int i = 0; i < nq; i++)
        {
            // Rank differences are exact ties: compare the distance at each rank, recomputed from the ground-truth ids.
            for (int r = 0; r < 100; r++)
            {
                int id = gt[i * gk + r];
                float d = 0;
                for (int j = 0; j < dim; j++)
                {
                    float x = q[i * dim + j] - b[id * dim + j];
                    d += x * x;
                }
                Assert.That(res[i][r].Distance, Is.EqualTo(d).Within(1e-3f * Math.Max(1, d)), $"query {i} rank {r}");
            }
            Assert.That(res[i][0].Label, Is.EqualTo(gt[i * gk]).Or.Matches<long>(l => res[i][0].Distance == res[i][1].Distance));
        }
    }

    [Test]
    public void HnswReachesRecall099OnSiftSmall()
    {
        (float[] b, int n, int dim) = VecsFile.ReadFvecs(TestAssets.Require("ann/siftsmall_base.fvecs"));
        (float[] q, int nq, _) = VecsFile.ReadFvecs(TestAssets.Require("ann/siftsmall_query.fvecs"));
        (int[] gt, _, int gk) = VecsFile.ReadIvecs(TestAssets.Require("ann/siftsmall_groundtruth.ivecs"));
        using var index = new HnswIndex(new HnswOptions { Dimension = dim, M = 16, EfConstruction = 200, Capacity = n });
        index.AddRange(b, Labels(n), threads: 2);
        double recall = 0;
        for (int i = 0; i < nq; i++)
        {
            var truth = gt.AsSpan(i * gk, 10).ToArray().Select(x => (long)x).ToHashSet();
            recall += index.Search(q.AsSpan(i * dim, dim), 10, 160).Count(h => truth.Contains(h.Label)) / 10.0;
        }
        Assert.That(recall / nq, Is.GreaterThanOrEqualTo(0.99));
    }

    [TestCase(DistanceMetric.L2)]
    [TestCase(DistanceMetric.InnerProduct)]
    [TestCase(DistanceMetric.Cosine)]
    public void RecallAgainstBruteForcePerMetric(DistanceMetric metric)
    {
        const int dim = 24;
        float[] data = RandomData(3000, dim, 1);
        float[] queries = RandomData(50, dim, 2);
        using HnswIndex index = Build(data, dim, metric);
        Assert.That(MeanRecall(index, queries, dim, 10, 100), Is.GreaterThanOrEqualTo(0.95));
        // SearchExact agrees with the independent ExactIndex.
        var exact = new ExactIndex(data, 3000, dim, metric);
        Assert.That(index.SearchExact(queries.AsSpan(0, dim), 10).Select(h => h.Label), Is.EqualTo(exact.Search(queries.AsSpan(0, dim), 10).Select(h => h.Label)));
    }

    [Test]
    public void MultiThreadedBuildKeepsRecall()
    {
        const int dim = 16;
        float[] data = RandomData(4000, dim, 3);
        using HnswIndex index = Build(data, dim, threads: 2);
        Assert.That(index.Count, Is.EqualTo(4000));
        Assert.That(MeanRecall(index, RandomData(50, dim, 4), dim, 10, 80), Is.GreaterThanOrEqualTo(0.95));
    }

    [Test]
    public void DeletedVectorsAreNeverReturnedAndSlotsAreReused()
    {
        const int dim = 16;
        float[] data = RandomData(2000, dim, 5);
        using HnswIndex index = Build(data, dim);
        for (long l = 0; l < 2000; l += 2)
        {
            Assert.That(index.Delete(l), Is.True);
        }
        Assert.That(index.Delete(0), Is.False);
        Assert.That(index.Count, Is.EqualTo(1000));
        float[] queries = RandomData(40, dim, 6);
        for (int i = 0; i < 40; i++)
        {
            Assert.That(index.Search(queries.AsSpan(i * dim, dim), 10, 50).All(h => h.Label % 2 == 1), Is.True);
        }
        Assert.That(MeanRecall(index, queries, dim, 10, 100), Is.GreaterThanOrEqualTo(0.9));
        int capacity = index.Capacity;
        float[] more = RandomData(500, dim, 7);
        index.AddRange(more, Labels(500, 10_000));
        Assert.That(index.Capacity, Is.EqualTo(capacity), "new vectors fill the deleted slots");
        Assert.That(index.DeletedCount, Is.EqualTo(500));
        Assert.That(index.Count, Is.EqualTo(1500));
        Assert.That(index.Search(more.AsSpan(3 * dim, dim), 1, 50)[0].Label, Is.EqualTo(10_003));
        Assert.That(MeanRecall(index, queries, dim, 10, 100), Is.GreaterThanOrEqualTo(0.9));
    }

    [Test]
    public void ReAddingALabelUpdatesItsVector()
    {
        const int dim = 8;
        float[] data = RandomData(1000, dim, 8);
        using HnswIndex index = Build(data, dim);
        float[] v = Enumerable.Repeat(5f, dim).ToArray();
        index.Add(17, v);
        Assert.That(index.Count, Is.EqualTo(1000));
        Assert.That(index.GetVector(17), Is.EqualTo(v));
        SearchHit top = index.Search(v, 1, 50)[0];
        Assert.That(top.Label, Is.EqualTo(17));
        Assert.That(top.Distance, Is.EqualTo(0f));
        // The old position no longer matches label 17.
        Assert.That(index.Search(data.AsSpan(17 * dim, dim), 1, 50)[0].Label, Is.Not.EqualTo(17));
    }

    [Test]
    public void HighlySelectiveFilterKeepsRecall()
    {
        const int dim = 16;
        float[] data = RandomData(10_000, dim, 9);
        using HnswIndex index = Build(data, dim);
        Func<long, bool> sel01 = l => l % 1000 == 7; // 0.1%: 10 vectors
        float[] queries = RandomData(30, dim, 10);
        Assert.That(MeanRecall(index, queries, dim, 10, 20, sel01), Is.GreaterThanOrEqualTo(0.95));
        Func<long, bool> sel20 = l => l % 5 == 0; // 20%: graph search with the filter
        Assert.That(MeanRecall(index, queries, dim, 10, 100, sel20), Is.GreaterThanOrEqualTo(0.95));
        var set = new HashSet<long> { 1, 2, 3 };
        Assert.That(index.Search(queries.AsSpan(0, dim), 10, 20, new LabelSetFilter(set)).Select(h => h.Label).Order(), Is.EqualTo(new long[] { 1, 2, 3 }));
    }

    [TestCase(VectorStorage.F16, DistanceMetric.L2)]
    [TestCase(VectorStorage.Int8, DistanceMetric.L2)]
    [TestCase(VectorStorage.Int8, DistanceMetric.Cosine)]
    [TestCase(VectorStorage.F16, DistanceMetric.Cosine)]
    [TestCase(VectorStorage.F16, DistanceMetric.InnerProduct)]
    [TestCase(VectorStorage.Int8, DistanceMetric.InnerProduct)]
    [TestCase(VectorStorage.F32, DistanceMetric.InnerProduct)]
    public void CompressedStorageIsRescoredOnFloats(VectorStorage storage, DistanceMetric metric)
    {
        const int dim = 32;
        float[] data = RandomData(3000, dim, 11);
        using HnswIndex index = Build(data, dim, metric, storage);
        float[] queries = RandomData(40, dim, 12);
        // Maximum inner product on unnormalized data is not a metric: HNSW needs a wider beam there (hnswlib too).
        int ef = metric == DistanceMetric.InnerProduct ? 400 : 100;
        Assert.That(MeanRecall(index, queries, dim, 10, ef), Is.GreaterThanOrEqualTo(0.95));
        var exact = new ExactIndex(data, 3000, dim, metric);
        for (int i = 0; i < 10; i++)
        {
            ReadOnlySpan<float> q = queries.AsSpan(i * dim, dim);
            SearchHit[] got = index.Search(q, 5, 100);
            var truth = exact.Search(q, 3000).ToDictionary(h => h.Label, h => h.Distance);
            foreach (SearchHit h in got)
            {
                Assert.That(h.Distance, Is.EqualTo(truth[h.Label]).Within(1e-5f), "distances are re-scored on the float copy");
            }
        }
        Assert.That(index.GetVector(5), Is.EqualTo(Normalized(data.AsSpan(5 * dim, dim).ToArray(), metric)).Within(1e-6f));
    }

    private static float[] Normalized(float[] v, DistanceMetric metric)
    {
        if (metric == DistanceMetric.Cosine)
        {
            DistanceKernels.Normalize(v);
        }
        return v;
    }

    [Test]
    public void ResizeGrowsAndRefusesToDropVectors()
    {
        const int dim = 8;
        using var index = new HnswIndex(new HnswOptions { Dimension = dim, Capacity = 10 });
        float[] data = RandomData(100, dim, 13);
        index.AddRange(data, Labels(100));
        Assert.That(index.Capacity, Is.GreaterThanOrEqualTo(100));
        index.Resize(5000);
        Assert.That(index.Capacity, Is.EqualTo(5000));
        Assert.That(index.Search(data.AsSpan(42 * dim, dim), 1)[0].Label, Is.EqualTo(42));
        index.Resize(100);
        Assert.That(index.Capacity, Is.EqualTo(100));
        Assert.Throws<ArgumentOutOfRangeException>(() => index.Resize(99));
        Assert.That(index.Search(data.AsSpan(99 * dim, dim), 1)[0].Label, Is.EqualTo(99));
    }

    [Test]
    public void ArgumentErrorsAreClear()
    {
        using var index = new HnswIndex(new HnswOptions { Dimension = 4 });
        Assert.That(Assert.Throws<ArgumentException>(() => index.Add(1, new float[3]))!.Message, Does.Contain("dimension 4"));
        Assert.That(Assert.Throws<ArgumentException>(() => index.Add(1, [1, float.NaN, 0, 0]))!.Message, Does.Contain("finite"));
        Assert.Throws<ArgumentOutOfRangeException>(() => index.Search(new float[4], 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HnswIndex(new HnswOptions { Dimension = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HnswIndex(new HnswOptions { Dimension = 4, M = 1 }));
        Assert.That(index.Search(new float[4], 5), Is.Empty);
        Assert.Throws<KeyNotFoundException>(() => index.GetVector(3));
    }
}
