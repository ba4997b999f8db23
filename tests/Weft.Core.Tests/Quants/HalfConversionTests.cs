using Weft.Core.Quants;

namespace Weft.Core.Tests.Quants;

public class HalfConversionTests
{
    [Test]
    public void Fp16MatchesDotNetHalfOnRandomBitPatterns()
    {
        var rng = new Random(20231122);
        int mismatches = 0;
        string first = "";
        for (int i = 0; i < 2_000_000; i++)
        {
            // Half the samples in the f16 range (exponents 98..143) where the rounding paths are, half anywhere.
            uint bits = i % 2 == 0
                ? (uint)rng.NextInt64(0, 1L << 32)
                : ((uint)rng.Next(2) << 31) | ((uint)rng.Next(98, 144) << 23) | (uint)rng.Next(1 << 23);
            float f = BitConverter.UInt32BitsToSingle(bits);
            if (float.IsNaN(f))
            {
                continue;
            }
            ushort expected = BitConverter.HalfToUInt16Bits((Half)f);
            ushort actual = Fp16.ToHalf(f);
            if (actual != expected && mismatches++ == 0)
            {
                first = $"bits 0x{bits:X8}: expected 0x{expected:X4}, got 0x{actual:X4}";
            }
        }
        Assert.That(mismatches, Is.Zero, first);
    }

    [TestCase(65504f, (ushort)0x7BFF)]
    [TestCase(65519.99f, (ushort)0x7BFF)]
    [TestCase(65520f, (ushort)0x7C00)]
    [TestCase(float.PositiveInfinity, (ushort)0x7C00)]
    [TestCase(float.NegativeInfinity, (ushort)0xFC00)]
    [TestCase(-0f, (ushort)0x8000)]
    [TestCase(5.9604645e-8f, (ushort)0x0001)]   // 2^-24, smallest subnormal
    [TestCase(2.9802322e-8f, (ushort)0x0000)]   // 2^-25: tie between 0 and 2^-24 -> even (0)
    [TestCase(2.9802326e-8f, (ushort)0x0001)]   // just above the tie
    [TestCase(1.0009765625f, (ushort)0x3C01)]   // 1 + 2^-10 exact
    [TestCase(1.00048828125f, (ushort)0x3C00)]  // 1 + 2^-11: tie -> even (1.0)
    [TestCase(1.00146484375f, (ushort)0x3C02)]  // 1 + 3*2^-11: tie -> even (1 + 2^-9)
    [TestCase(6.097555e-5f, (ushort)0x03FF)]    // largest subnormal
    [TestCase(6.1035156e-5f, (ushort)0x0400)]   // 2^-14, smallest normal
    public void Fp16EdgeCases(float value, ushort bits)
    {
        Assert.That(Fp16.ToHalf(value), Is.EqualTo(bits));
    }

    [Test]
    public void Fp16NaNIsQuietAndRoundTripsAllHalves()
    {
        Assert.That(Fp16.ToHalf(float.NaN) & 0x7E00, Is.EqualTo(0x7E00));
        Assert.That(float.IsNaN(Fp16.ToFloat(Fp16.ToHalf(float.NaN))), Is.True);
        for (int h = 0; h < 65536; h++)
        {
            float f = Fp16.ToFloat((ushort)h);
            if (!float.IsNaN(f))
            {
                Assert.That(Fp16.ToHalf(f), Is.EqualTo((ushort)h));
            }
        }
    }

    [Test]
    public void Bf16RoundsToNearestEvenAndQuietsNaN()
    {
        Assert.That(Bf16.FromFloat(1f), Is.EqualTo((ushort)0x3F80));
        // 1 + 2^-8 is the tie between 1 and 1 + 2^-7: even -> 1.
        Assert.That(Bf16.FromFloat(BitConverter.UInt32BitsToSingle(0x3F80_8000)), Is.EqualTo((ushort)0x3F80));
        // 1 + 3*2^-8: tie -> even (1 + 2^-6).
        Assert.That(Bf16.FromFloat(BitConverter.UInt32BitsToSingle(0x3F81_8000)), Is.EqualTo((ushort)0x3F82));
        Assert.That(Bf16.FromFloat(BitConverter.UInt32BitsToSingle(0x3F80_8001)), Is.EqualTo((ushort)0x3F81));
        // A signalling NaN whose payload lives only in the low bits would truncate to infinity; it must stay a NaN.
        ushort nan = Bf16.FromFloat(BitConverter.UInt32BitsToSingle(0x7F80_0001));
        Assert.That(nan, Is.EqualTo((ushort)0x7FC0));
        Assert.That(float.IsNaN(Bf16.ToFloat(nan)), Is.True);
        Assert.That(Bf16.FromFloat(float.MaxValue), Is.EqualTo((ushort)0x7F80), "rounds up to infinity as ggml does");
        var rng = new Random(3);
        for (int i = 0; i < 100_000; i++)
        {
            ushort b = (ushort)rng.Next(65536);
            float f = Bf16.ToFloat(b);
            if (!float.IsNaN(f))
            {
                Assert.That(Bf16.FromFloat(f), Is.EqualTo(b));
            }
        }
    }
}
