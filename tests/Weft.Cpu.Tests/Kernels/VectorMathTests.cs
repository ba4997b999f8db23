using System.Runtime.Intrinsics;
using Weft.Core.Quants;
using Weft.Cpu.Kernels;

namespace Weft.Cpu.Tests.Kernels;

/// <summary>Precision of the vector exp and exactness of the F16/BF16 widening.</summary>
public unsafe class VectorMathTests
{
    [SetUp]
    public void RequireAvx2()
    {
        if (!CpuFeatures.UseAvx2)
        {
            Assert.Ignore("AVX2/FMA not available.");
        }
    }

    [Test]
    public void ExpRelativeErrorIsBelow4e7()
    {
        double worst = 0;
        float worstX = 0;
        for (float x = -87f; x <= 88f; x += 0.00731f)
        {
            float y = VectorMath.Exp(Vector256.Create(x)).GetElement(3);
            double e = Math.Exp(x);
            double rel = Math.Abs(y - e) / e;
            if (rel > worst)
            {
                worst = rel;
                worstX = x;
            }
        }
        TestContext.Out.WriteLine($"worst relative error {worst:E3} at x = {worstX}");
        Assert.That(worst, Is.LessThan(4e-7));
    }

    [Test]
    public void ExpSpecialValues()
    {
        Vector256<float> y = VectorMath.Exp(Vector256.Create(float.NegativeInfinity, -100f, 0f, 100f, float.PositiveInfinity, float.NaN, -87.5f, 1f));
        Assert.That(y.GetElement(0), Is.EqualTo(0f));
        Assert.That(y.GetElement(1), Is.EqualTo(0f));
        Assert.That(y.GetElement(2), Is.EqualTo(1f));
        Assert.That(y.GetElement(3), Is.EqualTo(float.PositiveInfinity));
        Assert.That(y.GetElement(4), Is.EqualTo(float.PositiveInfinity));
        Assert.That(float.IsNaN(y.GetElement(5)), Is.True);
        Assert.That(y.GetElement(6), Is.EqualTo(0f));
        Assert.That(y.GetElement(7), Is.EqualTo(MathF.E).Within(1e-6f));
    }

    [Test]
    public void HalfWideningIsExactForEveryBitPattern()
    {
        var bits = new ushort[65536];
        for (int i = 0; i < bits.Length; i++)
        {
            bits[i] = (ushort)i;
        }
        fixed (ushort* p = bits)
        {
            for (int i = 0; i < bits.Length; i += 8)
            {
                Vector256<float> v = VectorMath.HalfToSingle(p + i);
                for (int l = 0; l < 8; l++)
                {
                    float expected = Fp16.ToFloat(bits[i + l]);
                    float got = v.GetElement(l);
                    if (float.IsNaN(expected))
                    {
                        Assert.That(float.IsNaN(got), $"0x{i + l:X4}");
                    }
                    else
                    {
                        Assert.That(BitConverter.SingleToUInt32Bits(got), Is.EqualTo(BitConverter.SingleToUInt32Bits(expected)), $"0x{i + l:X4}");
                    }
                }
                Vector256<float> b = VectorMath.BFloat16ToSingle(p + i);
                for (int l = 0; l < 8; l++)
                {
                    Assert.That(BitConverter.SingleToUInt32Bits(b.GetElement(l)), Is.EqualTo((uint)bits[i + l] << 16));
                }
            }
        }
    }
}
