using Weft.Core;
using Weft.Cpu.Ops;

namespace Weft.Cpu.Tests.Ops;

public class SoftMaxOpTests
{
    private static double[] Expected(float[] x, float[]? mask, long ne0, long ne1, long rows, float scale, bool causal, int nPast)
    {
        var e = new double[x.Length];
        for (long r = 0; r < rows; r++)
        {
            long i1 = r % ne1;
            var y = new double[ne0];
            double max = double.NegativeInfinity;
            for (long i = 0; i < ne0; i++)
            {
                y[i] = (causal && i > nPast + i1) ? double.NegativeInfinity : x[r * ne0 + i] * (double)scale + (mask is null ? 0 : mask[i1 * ne0 + i]);
                max = Math.Max(max, y[i]);
            }
            double sum = 0;
            for (long i = 0; i < ne0; i++)
            {
                sum += double.IsNegativeInfinity(y[i]) ? 0 : Math.Exp(y[i] - max);
            }
            for (long i = 0; i < ne0; i++)
            {
                e[r * ne0 + i] = double.IsNegativeInfinity(max) || double.IsNegativeInfinity(y[i]) ? 0 : Math.Exp(y[i] - max) / sum;
            }
        }
        return e;
    }

    [TestCase(10, 5, 4, 3, false, 0, false)]
    [TestCase(10, 5, 4, 3, true, 2, false)]
    [TestCase(127, 6, 2, 1, true, 0, true)]
    [TestCase(128, 3, 2, 1, false, 0, true)]
    [TestCase(7, 4, 1, 1, true, 3, true)]
    public void MatchesDoubleAndRowsSumToOne(int ne0, int ne1, int ne2, int ne3, bool causal, int nPast, bool withMask)
    {
        int n = ne0 * ne1 * ne2 * ne3;
        float[] x = OpHost.Random(n, 41, 5f);
        float[]? mask = withMask ? OpHost.Random(ne0 * ne1, 42, 1f) : null;
        if (mask is not null)
        {
            for (int i = 0; i < mask.Length; i += 3)
            {
                mask[i] = float.NegativeInfinity;
            }
        }
        float[] got = OpHost.RunThreads(new SoftMaxOp(), h =>
        {
            Tensor a = h.F32(x, ne0, ne1, ne2, ne3);
            Tensor? m = mask is null ? null : h.F32(mask, ne0, ne1);
            return new GraphBuilder().SoftMax(a, 0.5f, causal, nPast, m);
        });
        OpHost.AssertClose(Expected(x, mask, ne0, ne1, n / ne0, 0.5f, causal, nPast), got, 2e-6, "softmax");
        for (int r = 0; r < n / ne0; r++)
        {
            double sum = got.Skip(r * ne0).Take(ne0).Sum(v => (double)v);
            bool allMasked = got.Skip(r * ne0).Take(ne0).All(v => v == 0f);
            Assert.That(allMasked || Math.Abs(sum - 1) < 1e-5, $"row {r} sums to {sum}");
            Assert.That(got.Skip(r * ne0).Take(ne0).Any(float.IsNaN), Is.False);
        }
    }

    [Test]
    public void FullyMaskedRowsAreZero()
    {
        float[] x = OpHost.Random(16, 1);
        float[] mask = OpHost.Random(16, 2);
        for (int i = 0; i < 8; i++)
        {
            mask[i] = float.NegativeInfinity; // row 0 fully masked, row 1 not
        }
        float[] got = OpHost.RunThreads(new SoftMaxOp(), h => new GraphBuilder().SoftMax(h.F32(x, 8, 2), 1f, false, 0, h.F32(mask, 8, 2)));
        Assert.That(got.Take(8), Is.All.EqualTo(0f));
        Assert.That(got.Skip(8).Sum(), Is.EqualTo(1f).Within(1e-6f));
    }
}
