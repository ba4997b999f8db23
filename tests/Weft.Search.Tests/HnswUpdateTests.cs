using Weft.Search.Hnsw;
using Weft.Search.Vectors;
using Weft.Tests;

namespace Weft.Search.Tests;

/// <summary>Updates (re-adding a label with a new vector) repair the graph around the moved point.</summary>
public sealed unsafe class HnswUpdateTests
{
    private const int K = 10;

    private static double MeanRecall(HnswIndex index, HashSet<long>[] truth, float[] queries, int dim, int ef)
    {
        double sum = 0;
        for (int i = 0; i < truth.Length; i++)
        {
            sum += index.Search(queries.AsSpan(i * dim, dim), K, ef).Count(h => truth[i].Contains(h.Label)) / (double)K;
        }
        return sum / truth.Length;
    }

    /// <summary>
    /// siftsmall; every fifth vector moves: half of them next to another base vector, half into a far-away copy of
    /// the data (every component shifted by 200). Queries: the siftsmall queries plus shifted ones that land in the
    /// far region. The updated index must do as well as one built from scratch on the new data.
    /// </summary>
    [Test]
    public void UpdatingAFifthOfSiftSmallKeepsTheRecallOfAFreshBuild()
    {
        (float[] b, int n, int dim) = VecsFile.ReadFvecs(TestAssets.Require("ann/siftsmall_base.fvecs"));
        (float[] q, int nq, _) = VecsFile.ReadFvecs(TestAssets.Require("ann/siftsmall_query.fvecs"));
        var rng = new Random(31);
        float[] moved = (float[])b.Clone();
        var updated = new List<int>();
        for (int i = 0; i < n; i += 5)
        {
            int j = rng.Next(n);
            float shift = (i / 5) % 2 == 0 ? 0f : 200f;
            for (int c = 0; c < dim; c++)
            {
                moved[i * dim + c] = b[j * dim + c] + shift + (float)(rng.NextDouble() * 4 - 2);
            }
            updated.Add(i);
        }
        int nq2 = nq + nq / 2;
        float[] queries = new float[nq2 * dim];
        q.CopyTo(queries, 0);
        for (int i = nq; i < nq2; i++)
        {
            for (int c = 0; c < dim; c++)
            {
                queries[i * dim + c] = q[(i - nq) * dim + c] + 200f;
            }
        }
        long[] labels = Enumerable.Range(0, n).Select(i => (long)i).ToArray();
        var options = new HnswOptions { Dimension = dim, M = 16, EfConstruction = 100, Capacity = n };

        using var index = new HnswIndex(options);
        index.AddRange(b, labels);
        foreach (int i in updated)
        {
            index.Add(i, moved.AsSpan(i * dim, dim));
        }
        Assert.That(index.Count, Is.EqualTo(n));
        using var fresh = new HnswIndex(options);
        fresh.AddRange(moved, labels);

        HashSet<long>[] truth = new ExactIndex(moved, n, dim).SearchBatch(queries, nq2, K, threads: 2)
            .Select(h => h.Select(x => x.Label).ToHashSet()).ToArray();
        foreach (int ef in new[] { 10, 20, 40 })
        {
            double got = MeanRecall(index, truth, queries, dim, ef);
            double want = MeanRecall(fresh, truth, queries, dim, ef);
            TestContext.Out.WriteLine($"ef {ef}: recall@10 updated {got:F4}, fresh build {want:F4}");
            TestContext.Out.WriteLine($"  near {MeanRecall(index, truth[..nq], queries, dim, ef):F4} vs {MeanRecall(fresh, truth[..nq], queries, dim, ef):F4}; far {MeanRecall(index, truth[nq..], queries[(nq * dim)..], dim, ef):F4} vs {MeanRecall(fresh, truth[nq..], queries[(nq * dim)..], dim, ef):F4}");
            Assert.That(got, Is.GreaterThanOrEqualTo(want - 0.01), $"ef {ef}");
        }
        // Every moved vector is found at its new position, none at its old one.
        for (int t = 0; t < updated.Count; t += 37)
        {
            int i = updated[t];
            Assert.That(index.Search(moved.AsSpan(i * dim, dim), 1, 64)[0].Label, Is.EqualTo(i));
            Assert.That(index.Search(b.AsSpan(i * dim, dim), 1, 64)[0].Label, Is.Not.EqualTo(i));
        }
    }

    [Test]
    public void UpdatesKeepNeighbourListsValid()
    {
        const int dim = 8, n = 600;
        var rng = new Random(5);
        float[] data = Enumerable.Range(0, n * dim).Select(_ => (float)rng.NextDouble()).ToArray();
        using var index = new HnswIndex(new HnswOptions { Dimension = dim, M = 4, EfConstruction = 20, Capacity = 16 });
        index.AddRange(data, Enumerable.Range(0, n).Select(i => (long)i).ToArray());
        // Many rounds of moves, including back and forth between the same points and onto duplicates.
        float[] v = new float[dim];
        for (int round = 0; round < 2000; round++)
        {
            int label = rng.Next(n);
            int target = rng.Next(n);
            for (int c = 0; c < dim; c++)
            {
                v[c] = round % 3 == 0 ? data[target * dim + c] : (float)(rng.NextDouble() * 3);
                data[label * dim + c] = v[c];
            }
            index.Add(label, v);
        }
        var exact = new ExactIndex(data, n, dim);
        double recall = 0;
        for (int i = 0; i < 50; i++)
        {
            float[] q = Enumerable.Range(0, dim).Select(_ => (float)(rng.NextDouble() * 3)).ToArray();
            var truth = exact.Search(q, K).Select(h => h.Label).ToHashSet();
            SearchHit[] hits = index.Search(q, K, 100);
            Assert.That(hits.Select(h => h.Label).Distinct().Count(), Is.EqualTo(hits.Length), "no duplicate results");
            recall += hits.Count(h => truth.Contains(h.Label)) / (double)K;
        }
        Assert.That(recall / 50, Is.GreaterThanOrEqualTo(0.95));
    }
}
