using Weft.Cpu.Kernels;

namespace Weft.Cpu.Tests.Kernels;

/// <summary>Reference vs Vector256 for every length 0..256 of each element-wise and row kernel.</summary>
public class ElementwiseKernelTests
{
    private static IEnumerable<int> Lengths => Enumerable.Range(0, 257);

    private static float[] Random(int n, int seed, float scale = 4f)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        }
        return a;
    }

    private static void AssertClose(float[] expected, float[] actual, float rel, float abs, string what)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length));
        for (int i = 0; i < expected.Length; i++)
        {
            float tol = abs + rel * Math.Abs(expected[i]);
            if (!(Math.Abs(expected[i] - actual[i]) <= tol) && !(float.IsNaN(expected[i]) && float.IsNaN(actual[i])) && expected[i] != actual[i])
            {
                Assert.Fail($"{what}: element {i} of {expected.Length}: expected {expected[i]:R}, got {actual[i]:R}");
            }
        }
    }

    private static void CheckUnary<TOp>(float rel, float abs) where TOp : IUnaryOperator
    {
        if (!CpuFeatures.UseAvx2)
        {
            Assert.Ignore("AVX2/FMA not available (or WEFT_FORCE_SCALAR=1): only the reference path runs.");
        }
        foreach (int n in Lengths)
        {
            float[] x = Random(n, 20230828 + n, 12f);
            float[] r = new float[n], v = new float[n];
            Elementwise.UnaryReference<TOp>(x, r);
            Elementwise.UnaryVector256<TOp>(x, v);
            AssertClose(r, v, rel, abs, $"{typeof(TOp).Name} n={n}");
        }
    }

    [Test]
    public void SiluVectorMatchesReference() => CheckUnary<SiluOperator>(1e-6f, 1e-7f);

    [Test]
    public void GeluVectorMatchesReference() => CheckUnary<GeluOperator>(2e-6f, 1e-6f);

    [Test]
    public void SiluAndGeluMatchTheirFormulasInDouble()
    {
        foreach (float x in new[] { -20f, -5f, -1f, -0.1f, 0f, 0.3f, 1f, 3f, 10f, 30f })
        {
            double silu = x / (1 + Math.Exp(-x));
            double gelu = 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * x * (1 + 0.044715 * x * x)));
            Assert.That(SiluOperator.Invoke(x), Is.EqualTo(silu).Within(1e-6 * Math.Abs(silu) + 1e-7), $"silu({x})");
            Assert.That(GeluOperator.Invoke(x), Is.EqualTo(gelu).Within(1e-6 * Math.Abs(gelu) + 1e-7), $"gelu({x})");
        }
    }

    private static void CheckBinary<TOp>() where TOp : IBinaryOperator
    {
        if (!CpuFeatures.UseAvx2)
        {
            Assert.Ignore("AVX2/FMA not available: only the reference path runs.");
        }
        foreach (int n in Lengths)
        {
            float[] x = Random(n, 1 + n), y = Random(n, 1000 + n);
            float[] r = new float[n], v = new float[n];
            Elementwise.BinaryReference<TOp>(x, y, r);
            Elementwise.BinaryVector256<TOp>(x, y, v);
            AssertClose(r, v, 1e-6f, 1e-7f, $"{typeof(TOp).Name} n={n}");
            Elementwise.BinaryReference<TOp>(x, 0.37f, r);
            Elementwise.BinaryVector256<TOp>(x, 0.37f, v);
            AssertClose(r, v, 1e-6f, 1e-7f, $"{typeof(TOp).Name} scalar n={n}");
        }
    }

    [Test]
    public void AddVectorMatchesReference() => CheckBinary<AddOperator>();

    [Test]
    public void MulVectorMatchesReference() => CheckBinary<MulOperator>();

    [Test]
    public void SwiGluVectorMatchesReference() => CheckBinary<SiluOperator>();

    [Test]
    public void AddAndMulAreExact()
    {
        float[] x = Random(37, 5), y = Random(37, 6), d = new float[37];
        Elementwise.Binary<AddOperator>(x, y, d);
        for (int i = 0; i < 37; i++)
        {
            Assert.That(d[i], Is.EqualTo(x[i] + y[i]));
        }
        Elementwise.Binary<MulOperator>(x, y, d);
        for (int i = 0; i < 37; i++)
        {
            Assert.That(d[i], Is.EqualTo(x[i] * y[i]));
        }
    }

    [Test]
    public void RmsNormAndNormVectorMatchReference()
    {
        if (!CpuFeatures.UseAvx2)
        {
            Assert.Ignore("AVX2/FMA not available.");
        }
        foreach (int n in Lengths)
        {
            float[] x = Random(n, 77 + n);
            for (int i = 0; i < n; i++)
            {
                x[i] += 1.5f; // a non-zero mean exercises Norm's centring
            }
            float[] r = new float[n], v = new float[n];
            RmsNormKernel.Reference(x, r, 1e-5f);
            RmsNormKernel.Vector256(x, v, 1e-5f);
            AssertClose(r, v, 2e-6f, 1e-6f, $"rms_norm n={n}");
            NormKernel.Reference(x, r, 1e-5f);
            NormKernel.Vector256(x, v, 1e-5f);
            AssertClose(r, v, 1e-5f, 2e-6f, $"norm n={n}");
        }
    }

    [Test]
    public void RmsNormMatchesDouble()
    {
        float[] x = Random(127, 9), y = new float[127];
        RmsNormKernel.Row(x, y, 1e-6f);
        double ms = x.Sum(v => (double)v * v) / x.Length;
        for (int i = 0; i < x.Length; i++)
        {
            Assert.That(y[i], Is.EqualTo(x[i] / Math.Sqrt(ms + 1e-6)).Within(1e-5));
        }
        NormKernel.Row(x, y, 1e-6f);
        double mean = x.Average(v => (double)v);
        double var = x.Sum(v => (v - mean) * (v - mean)) / x.Length;
        for (int i = 0; i < x.Length; i++)
        {
            Assert.That(y[i], Is.EqualTo((x[i] - mean) / Math.Sqrt(var + 1e-6)).Within(1e-5));
        }
    }

    [Test]
    public void SoftMaxVectorMatchesReference()
    {
        if (!CpuFeatures.UseAvx2)
        {
            Assert.Ignore("AVX2/FMA not available.");
        }
        foreach (int n in Lengths)
        {
            float[] x = Random(n, 300 + n, 8f), mask = Random(n, 600 + n, 2f);
            for (int i = 0; i < n; i += 5)
            {
                mask[i] = float.NegativeInfinity;
            }
            float[] r = new float[n], v = new float[n];
            foreach (int valid in new[] { n, n / 2, 0 })
            {
                SoftMaxKernel.Reference(x, mask, 0.7f, valid, r);
                SoftMaxKernel.Vector256(x, mask, 0.7f, valid, v);
                AssertClose(r, v, 3e-6f, 1e-8f, $"softmax n={n} valid={valid}");
                SoftMaxKernel.Reference(x, default, 1.3f, valid, r);
                SoftMaxKernel.Vector256(x, default, 1.3f, valid, v);
                AssertClose(r, v, 3e-6f, 1e-8f, $"softmax (no mask) n={n} valid={valid}");
            }
        }
    }

    [Test]
    public void SoftMaxOfAllMinusInfinityIsZeroNotNaN()
    {
        float[] x = Random(19, 3), mask = Enumerable.Repeat(float.NegativeInfinity, 19).ToArray();
        float[] r = Enumerable.Repeat(5f, 19).ToArray(), v = Enumerable.Repeat(5f, 19).ToArray();
        SoftMaxKernel.Reference(x, mask, 1f, 19, r);
        SoftMaxKernel.Row(x, mask, 1f, 19, v);
        Assert.That(r, Is.All.EqualTo(0f));
        Assert.That(v, Is.All.EqualTo(0f));
    }
}
