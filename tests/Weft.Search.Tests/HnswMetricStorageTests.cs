using Weft.Search.Hnsw;
using Weft.Search.Vectors;

namespace Weft.Search.Tests;

/// <summary>Recall of every (metric, storage) pair against exact ground truth from the independent <see cref="ExactIndex"/>.</summary>
public sealed class HnswMetricStorageTests
{
    private const int Dim = 32, N = 4000, Queries = 60;

    /// <summary>Gaussian directions with norms spread over 0.5..1.5, so inner product and cosine rank differently.</summary>
    private static float[] Gaussian(int n, int seed)
    {
        var rng = new Random(seed);
        float[] d = new float[n * Dim];
        for (int i = 0; i < n; i++)
        {
            double norm = 0;
            for (int j = 0; j < Dim; j++)
            {
                double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
                double g = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
                d[i * Dim + j] = (float)g;
                norm += g * g;
            }
            double scale = (0.5 + rng.NextDouble()) / Math.Sqrt(norm);
            for (int j = 0; j < Dim; j++)
            {
                d[i * Dim + j] = (float)(d[i * Dim + j] * scale);
            }
        }
        return d;
    }

    /// <summary>Uniform [0,1)^d: every inner product is positive and long vectors dominate (the hard case for inner product).</summary>
    private static float[] Uniform(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n * Dim).Select(_ => (float)rng.NextDouble()).ToArray();
    }

    private static double Recall(DistanceMetric metric, VectorStorage storage, float[] data, float[] queries, int ef)
    {
        using var index = new HnswIndex(new HnswOptions { Dimension = Dim, Metric = metric, Storage = storage, M = 16, EfConstruction = 100, Capacity = N });
        index.AddRange(data, Enumerable.Range(0, N).Select(i => (long)i).ToArray());
        var exact = new ExactIndex(data, N, Dim, metric);
        double recall = 0;
        for (int i = 0; i < Queries; i++)
        {
            ReadOnlySpan<float> q = queries.AsSpan(i * Dim, Dim);
            var truth = exact.Search(q, 10).Select(h => h.Label).ToHashSet();
            recall += index.Search(q, 10, ef).Count(h => truth.Contains(h.Label)) / 10.0;
        }
        return recall / Queries;
    }

    [TestCase(DistanceMetric.InnerProduct, VectorStorage.F32)]
    [TestCase(DistanceMetric.InnerProduct, VectorStorage.F16)]
    [TestCase(DistanceMetric.InnerProduct, VectorStorage.Int8)]
    [TestCase(DistanceMetric.Cosine, VectorStorage.F32)]
    [TestCase(DistanceMetric.Cosine, VectorStorage.F16)]
    [TestCase(DistanceMetric.Cosine, VectorStorage.Int8)]
    [TestCase(DistanceMetric.L2, VectorStorage.F16)]
    [TestCase(DistanceMetric.L2, VectorStorage.Int8)]
    public void RecallAgainstExactGroundTruth(DistanceMetric metric, VectorStorage storage)
    {
        double gaussian = Recall(metric, storage, Gaussian(N, 21), Gaussian(Queries, 22), 200);
        double uniform = Recall(metric, storage, Uniform(N, 23), Uniform(Queries, 24), 200);
        TestContext.Out.WriteLine($"{metric} {storage}: recall@10 at ef 200: gaussian {gaussian:F4}, uniform {uniform:F4}");
        Assert.That(gaussian, Is.GreaterThanOrEqualTo(0.98), "gaussian data");
        Assert.That(uniform, Is.GreaterThanOrEqualTo(0.98), "uniform data");
    }
}
