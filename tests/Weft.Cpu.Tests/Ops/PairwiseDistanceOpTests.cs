using Weft.Core;
using Weft.Cpu.Kernels;
using Weft.Cpu.Ops;

namespace Weft.Cpu.Tests.Ops;

public unsafe class PairwiseDistanceOpTests
{
    // Independent double-precision spec: dst[j * na + i] = distance(a column i, b column j).
    private static double[] Expected(float[] a, float[] b, int d, int na, int nb, PairwiseMetric metric)
    {
        var e = new double[na * nb];
        for (int j = 0; j < nb; j++)
        {
            for (int i = 0; i < na; i++)
            {
                double s = 0;
                for (int k = 0; k < d; k++)
                {
                    double x = a[i * d + k], y = b[j * d + k];
                    s += metric == PairwiseMetric.L2Squared ? (x - y) * (x - y) : x * y;
                }
                e[j * na + i] = metric == PairwiseMetric.L2Squared ? s : 1 - s;
            }
        }
        return e;
    }

    private static IEnumerable<TestCaseData> Shapes()
    {
        int[][] shapes = [[1, 1, 1], [7, 5, 3], [8, 64, 16], [16, 65, 17], [127, 130, 5], [128, 129, 33], [129, 3, 40], [200, 257, 2]];
        foreach (int[] s in shapes)
        {
            foreach (PairwiseMetric m in new[] { PairwiseMetric.L2Squared, PairwiseMetric.InnerProduct })
            {
                yield return new TestCaseData(s[0], s[1], s[2], m);
            }
        }
    }

    [TestCaseSource(nameof(Shapes))]
    public void MatchesDoubleReferenceOnAnyThreadCount(int d, int na, int nb, PairwiseMetric metric)
    {
        float[] a = OpHost.Random(d * na, 11, 3f), b = OpHost.Random(d * nb, 12, 3f);
        float[] got = OpHost.RunThreads(new PairwiseDistanceOp(), h =>
            new GraphBuilder().PairwiseDistance(h.F32(a, d, na), h.F32(b, d, nb), metric));
        // F32 sums of d terms of size up to ~36: relative error ~d·eps of the largest partial sum.
        OpHost.AssertClose(Expected(a, b, d, na, nb, metric), got, 2e-6 * d, $"pairwise {metric} d={d}");
    }

    [Test]
    public void Vector256AgreesWithReferenceForEveryLengthAndBlockSize()
    {
        if (!CpuFeatures.UseAvx2)
        {
            Assert.Ignore("no AVX2/FMA here (or WEFT_FORCE_SCALAR=1): the dispatcher uses the reference");
        }
        var rng = new Random(20230828);
        for (int d = 8; d <= 160; d++)
        {
            foreach (int count in new[] { 1, 3, 4, 5, 8, 9 })
            {
                float[] a = Enumerable.Range(0, d * count).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
                float[] b = Enumerable.Range(0, d).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
                foreach (PairwiseMetric m in new[] { PairwiseMetric.L2Squared, PairwiseMetric.InnerProduct })
                {
                    var r = new float[count];
                    var v = new float[count];
                    fixed (float* pa = a, pb = b, pr = r, pv = v)
                    {
                        PairwiseDistanceKernel.Reference(pa, d, count, pb, d, m, pr);
                        PairwiseDistanceKernel.Vector256(pa, d, count, pb, d, m, pv);
                        // Each vector of a four-block gives the same bits as when computed alone (the tail path).
                        for (int i = 0; i < count; i++)
                        {
                            float one;
                            PairwiseDistanceKernel.Vector256(pa + i * d, d, 1, pb, d, m, &one);
                            Assert.That(BitConverter.SingleToInt32Bits(one), Is.EqualTo(BitConverter.SingleToInt32Bits(v[i])), $"{m} d={d} count={count} i={i}");
                        }
                    }
                    for (int i = 0; i < count; i++)
                    {
                        Assert.That(v[i], Is.EqualTo(r[i]).Within(1e-5 * (1 + Math.Abs(r[i]))), $"{m} d={d} count={count} i={i}");
                    }
                }
            }
        }
    }

    [Test]
    public void IdenticalVectorsAreAtDistanceZeroAndUnitVectorsAtInnerProductZero()
    {
        int d = 37;
        float[] a = OpHost.Random(d * 9, 5), b = a.AsSpan(4 * d, 2 * d).ToArray();
        float[] got = OpHost.RunThreads(new PairwiseDistanceOp(), h =>
            new GraphBuilder().PairwiseDistance(h.F32(a, d, 9), h.F32(b, d, 2), PairwiseMetric.L2Squared));
        Assert.That(got[4], Is.EqualTo(0f));
        Assert.That(got[9 + 5], Is.EqualTo(0f));
        float[] e1 = new float[d], e2 = new float[d];
        e1[3] = 1;
        e2[3] = 1;
        float[] ip = OpHost.RunThreads(new PairwiseDistanceOp(), h =>
            new GraphBuilder().PairwiseDistance(h.F32(e1, d, 1), h.F32(e2, d, 1), PairwiseMetric.InnerProduct));
        Assert.That(ip[0], Is.EqualTo(0f));
    }

    [Test]
    public void StridedColumnsOfAView()
    {
        // a is every other column of a wider matrix: nb1 = 2 rows.
        int d = 19, na = 10, nb = 3;
        float[] wide = OpHost.Random(d * na * 2, 21), b = OpHost.Random(d * nb, 22);
        float[] a = new float[d * na];
        for (int i = 0; i < na; i++)
        {
            Array.Copy(wide, 2 * i * d, a, i * d, d);
        }
        float[] got = OpHost.RunThreads(new PairwiseDistanceOp(), h =>
        {
            var g = new GraphBuilder();
            Tensor w = h.F32(wide, d, 2 * na);
            Tensor view = h.Place(g.View(w, Long4.Of(d, na), 2L * d * 4, 2L * d * 4 * na, 2L * d * 4 * na, 0));
            return g.PairwiseDistance(view, h.F32(b, d, nb), PairwiseMetric.L2Squared);
        });
        OpHost.AssertClose(Expected(a, b, d, na, nb, PairwiseMetric.L2Squared), got, 1e-5, "strided");
    }

    [Test]
    public void BuilderRejectsBadInputs()
    {
        var g = new GraphBuilder();
        Tensor a = Tensor.NewLeaf(DType.F32, 8, 4, name: "a");
        Assert.That(Assert.Throws<ArgumentException>(() => g.PairwiseDistance(a, Tensor.NewLeaf(DType.F32, 9, 2, name: "b"), PairwiseMetric.L2Squared))!.Message,
            Does.Contain("'a'").And.Contain("'b'"));
        Assert.That(Assert.Throws<ArgumentException>(() => g.PairwiseDistance(a, Tensor.NewLeaf(DType.F16, 8, 2, name: "h"), PairwiseMetric.L2Squared))!.Message,
            Does.Contain("f32"));
        Assert.Throws<ArgumentException>(() => g.PairwiseDistance(a, Tensor.NewLeaf(DType.F32, 8, 2, 2), PairwiseMetric.L2Squared));
        Assert.Throws<ArgumentException>(() => g.PairwiseDistance(a, Tensor.NewLeaf(DType.F32, 8, 2), (PairwiseMetric)7));
        Tensor ok = g.PairwiseDistance(a, Tensor.NewLeaf(DType.F32, 8, 3), PairwiseMetric.InnerProduct);
        Assert.That(ok.Ne[0], Is.EqualTo(4));
        Assert.That(ok.Ne[1], Is.EqualTo(3));
        Assert.That(ok.Params[0], Is.EqualTo((int)PairwiseMetric.InnerProduct));
    }
}
