using Weft.Search.Hnsw;
using Weft.Search.Vectors;

namespace Weft.Search.Tests;

public sealed unsafe class HnswConcurrencyTests
{
    [Test]
    public void SearchesDuringInsertsSeeConsistentResultsAndNoUpdateIsLost()
    {
        const int dim = 16, initial = 1000, added = 3000;
        var rng = new Random(11);
        float[] data = Enumerable.Range(0, (initial + added) * dim).Select(_ => (float)rng.NextDouble()).ToArray();
        using var index = new HnswIndex(new HnswOptions { Dimension = dim, M = 8, EfConstruction = 50, Capacity = 64 });
        index.AddRange(data[..(initial * dim)], Enumerable.Range(0, initial).Select(i => (long)i).ToArray());
        // Deleting and re-adding exercises slot reuse while searches run.
        for (long l = 0; l < 100; l++)
        {
            index.Delete(l);
        }
        using var done = new CancellationTokenSource();
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        int searches = 0;
        Thread[] readers = Enumerable.Range(0, 2).Select(t => new Thread(() =>
        {
            var r = new Random(100 + t);
            float[] q = new float[dim];
            while (!done.IsCancellationRequested)
            {
                for (int j = 0; j < dim; j++)
                {
                    q[j] = (float)r.NextDouble();
                }
                SearchHit[] hits = index.Search(q, 10, 40);
                Interlocked.Increment(ref searches);
                for (int i = 0; i < hits.Length; i++)
                {
                    long l = hits[i].Label;
                    float expected;
                    fixed (float* qp = q, vp = &data[(int)l * dim])
                    {
                        expected = DistanceKernels.L2Squared(qp, vp, dim);
                    }
                    if (Math.Abs(expected - hits[i].Distance) > 1e-4f)
                    {
                        errors.Enqueue($"label {l}: distance {hits[i].Distance}, vector says {expected}");
                    }
                    if (i > 0 && hits[i].Distance < hits[i - 1].Distance)
                    {
                        errors.Enqueue("results out of order");
                    }
                }
                if (hits.Select(h => h.Label).Distinct().Count() != hits.Length)
                {
                    errors.Enqueue("duplicate labels");
                }
            }
        })).ToArray();
        foreach (Thread t in readers)
        {
            t.Start();
        }
        // One writer thread group: parallel adds, then re-adding the deleted labels.
        index.AddRange(data[(initial * dim)..], Enumerable.Range(initial, added).Select(i => (long)i).ToArray(), threads: 2);
        for (long l = 0; l < 100; l++)
        {
            index.Add(l, data.AsSpan((int)l * dim, dim));
        }
        done.Cancel();
        foreach (Thread t in readers)
        {
            t.Join();
        }
        Assert.That(errors, Is.Empty, string.Join("\n", errors.Take(5)));
        Assert.That(searches, Is.GreaterThan(0));
        Assert.That(index.Count, Is.EqualTo(initial + added));
        for (int i = 0; i < initial + added; i += 97)
        {
            Assert.That(index.Search(data.AsSpan(i * dim, dim), 1, 64)[0].Label, Is.EqualTo(i), "every insert is findable");
        }
    }
}
