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

    [Test]
    public void SearchesDuringUpdatesSeeEitherTheOldOrTheNewVector()
    {
        const int dim = 16, n = 2000;
        var rng = new Random(12);
        float[] before = Enumerable.Range(0, n * dim).Select(_ => (float)rng.NextDouble()).ToArray();
        // The new positions: a quarter of the labels move, half of those far away.
        float[] after = (float[])before.Clone();
        int[] moved = Enumerable.Range(0, n).Where(i => i % 4 == 1).ToArray();
        foreach (int i in moved)
        {
            float shift = i % 8 == 1 ? 5f : 0f;
            for (int j = 0; j < dim; j++)
            {
                after[i * dim + j] = (float)rng.NextDouble() + shift;
            }
        }
        using var index = new HnswIndex(new HnswOptions { Dimension = dim, M = 8, EfConstruction = 50, Capacity = n });
        index.AddRange(before, Enumerable.Range(0, n).Select(i => (long)i).ToArray());
        using var done = new CancellationTokenSource();
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        int searches = 0;
        Thread[] readers = Enumerable.Range(0, 2).Select(t => new Thread(() =>
        {
            var r = new Random(200 + t);
            float[] q = new float[dim];
            while (!done.IsCancellationRequested)
            {
                float shift = r.Next(2) * 5f;
                for (int j = 0; j < dim; j++)
                {
                    q[j] = (float)r.NextDouble() + shift;
                }
                SearchHit[] hits = index.Search(q, 10, 40);
                Interlocked.Increment(ref searches);
                for (int i = 0; i < hits.Length; i++)
                {
                    long l = hits[i].Label;
                    float dOld, dNew;
                    fixed (float* qp = q, op = &before[(int)l * dim], np = &after[(int)l * dim])
                    {
                        dOld = DistanceKernels.L2Squared(qp, op, dim);
                        dNew = DistanceKernels.L2Squared(qp, np, dim);
                    }
                    if (Math.Abs(dOld - hits[i].Distance) > 1e-4f && Math.Abs(dNew - hits[i].Distance) > 1e-4f)
                    {
                        errors.Enqueue($"label {l}: distance {hits[i].Distance}, old vector says {dOld}, new {dNew} (torn read)");
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
        // Two writers update disjoint halves of the moved labels in parallel.
        Thread[] writers = Enumerable.Range(0, 2).Select(w => new Thread(() =>
        {
            for (int k = w; k < moved.Length; k += 2)
            {
                int i = moved[k];
                index.Add(i, after.AsSpan(i * dim, dim));
            }
        })).ToArray();
        foreach (Thread t in writers)
        {
            t.Start();
        }
        foreach (Thread t in writers)
        {
            t.Join();
        }
        done.Cancel();
        foreach (Thread t in readers)
        {
            t.Join();
        }
        Assert.That(errors, Is.Empty, string.Join("\n", errors.Take(5)));
        Assert.That(searches, Is.GreaterThan(0));
        Assert.That(index.Count, Is.EqualTo(n));
        foreach (int i in moved.Where((_, k) => k % 7 == 0))
        {
            Assert.That(index.Search(after.AsSpan(i * dim, dim), 1, 64)[0].Label, Is.EqualTo(i), "every update is findable at its new position");
            Assert.That(index.GetVector(i), Is.EqualTo(after.AsSpan(i * dim, dim).ToArray()));
        }
    }
}
