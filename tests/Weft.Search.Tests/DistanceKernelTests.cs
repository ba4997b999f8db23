using Weft.Search.Vectors;

namespace Weft.Search.Tests;

public sealed unsafe class DistanceKernelTests
{
    private static float[] RandomVector(Random rng, int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();

    private static void AssertClose(float expected, float actual, int n, string what)
    {
        float tol = 1e-5f * Math.Max(1f, Math.Abs(expected)) + 1e-6f * n;
        Assert.That(actual, Is.EqualTo(expected).Within(tol), $"{what} n={n}");
    }

    [Test]
    public void Vector256MatchesReferenceForEveryLength0To256()
    {
        var rng = new Random(20230828);
        for (int n = 0; n <= 256; n++)
        {
            float[] a = RandomVector(rng, n), b = RandomVector(rng, n);
            sbyte[] codes = new sbyte[n];
            float scale = DistanceKernels.QuantizeInt8(b, codes);
            fixed (float* pa = a, pb = b)
            fixed (sbyte* pc = codes)
            {
                AssertClose(DistanceKernels.L2SquaredReference(pa, pb, n), DistanceKernels.L2SquaredVector256(pa, pb, n), n, "L2");
                AssertClose(DistanceKernels.DotReference(pa, pb, n), DistanceKernels.DotVector256(pa, pb, n), n, "Dot");
                AssertClose(DistanceKernels.L2SquaredInt8Reference(pa, pc, scale, n), DistanceKernels.L2SquaredInt8Vector256(pa, pc, scale, n), n, "L2Int8");
                AssertClose(DistanceKernels.DotInt8Reference(pa, pc, scale, n), DistanceKernels.DotInt8Vector256(pa, pc, scale, n), n, "DotInt8");
                AssertClose(DistanceKernels.L2SquaredReference(pa, pb, n), DistanceKernels.L2Squared(pa, pb, n), n, "L2 dispatch");
            }
        }
    }

    [Test]
    public void ReferenceIsTheTextbookFormula()
    {
        float[] a = [1, 2, 3], b = [4, 0, -1];
        fixed (float* pa = a, pb = b)
        {
            Assert.That(DistanceKernels.L2SquaredReference(pa, pb, 3), Is.EqualTo(9 + 4 + 16));
            Assert.That(DistanceKernels.DotReference(pa, pb, 3), Is.EqualTo(4 + 0 - 3));
        }
    }

    [Test]
    public void Int8QuantizationErrorIsWithinHalfAStep()
    {
        var rng = new Random(7);
        float[] v = RandomVector(rng, 100);
        sbyte[] c = new sbyte[100];
        float s = DistanceKernels.QuantizeInt8(v, c);
        for (int i = 0; i < v.Length; i++)
        {
            Assert.That(Math.Abs(v[i] - s * c[i]), Is.LessThanOrEqualTo(s / 2 + 1e-6f));
        }
    }

    [Test]
    public void NormalizeGivesUnitLengthAndKeepsZero()
    {
        float[] v = [3, 4];
        Assert.That(DistanceKernels.Normalize(v), Is.EqualTo(5f));
        Assert.That(v, Is.EqualTo(new[] { 0.6f, 0.8f }).Within(1e-6f));
        float[] z = new float[4];
        DistanceKernels.Normalize(z);
        Assert.That(z, Is.All.EqualTo(0f));
    }
}
