using System.Runtime.Intrinsics.X86;
using Weft.Core;
using Weft.Core.Quants;
using Weft.Cpu.Kernels;

namespace Weft.Cpu.Tests.Quants;

/// <summary>
/// SIMD activation quantizers against Weft.Core's ggml-exact reference quantizers: byte-identical blocks,
/// including exact rounding ties (roundf ties away from zero for Q8_0/Q8_1, ties to even for Q8_K).
/// </summary>
public sealed unsafe class ActivationQuantizeTests
{
    private static bool HasAvx2 => Avx2.IsSupported && Fma.IsSupported;

    private static IEnumerable<float[]> Rows(int blockSize)
    {
        var rng = new Random(424242);
        int n = blockSize * 6;
        var random = new float[n];
        for (int i = 0; i < n; i++)
        {
            random[i] = (float)(rng.NextDouble() * 2 - 1) * (i % 37 == 0 ? 50f : 1f);
        }
        yield return random;
        yield return new float[n]; // all-zero blocks: d = 0, q = 0
        // Exact ties: the largest value maps to ±127 with scale 1, the others sit on k + 0.5.
        var ties = new float[n];
        for (int i = 0; i < n; i++)
        {
            ties[i] = i % blockSize == 3 ? (i / blockSize % 2 == 0 ? 127f : -127f) : (i % 200 - 100) + 0.5f;
        }
        yield return ties;
        // Ties of opposite sign at the largest magnitude: the first one found sets Q8_K's sign.
        var signs = new float[n];
        for (int i = 0; i < n; i++)
        {
            signs[i] = i % blockSize == 5 ? -2f : i % blockSize == 9 ? 2f : (float)(rng.NextDouble() - 0.5);
        }
        yield return signs;
    }

    private static void CheckType(DType type, delegate*<float*, byte*, int, void> reference, delegate*<float*, byte*, int, void> simd)
    {
        foreach (float[] x in Rows(TypeTraits.Of(type).BlockSize))
        {
            byte[] want = new byte[TypeTraits.Of(type).RowSize(x.Length)];
            Quantize.Row(type, x, want);
            byte[] gotRef = new byte[want.Length], gotSimd = new byte[want.Length];
            fixed (float* px = x)
            fixed (byte* pr = gotRef, ps = gotSimd)
            {
                reference(px, pr, x.Length);
                if (HasAvx2)
                {
                    simd(px, ps, x.Length);
                }
                else
                {
                    reference(px, ps, x.Length);
                }
            }
            Assert.That(gotRef, Is.EqualTo(want), $"{type} reference vs Weft.Core.Quants.Quantize");
            Assert.That(gotSimd, Is.EqualTo(want), $"{type} AVX2 vs Weft.Core.Quants.Quantize");
        }
    }

    [Test]
    public void Q8_0MatchesReferenceQuantizer() => CheckType(DType.Q8_0, &QuantizeActivations.Q8_0Reference, &QuantizeActivations.Q8_0Avx2);

    [Test]
    public void Q8_1MatchesReferenceQuantizer() => CheckType(DType.Q8_1, &QuantizeActivations.Q8_1Reference, &QuantizeActivations.Q8_1Avx2);

    [Test]
    public void Q8_KMatchesReferenceQuantizer() => CheckType(DType.Q8_K, &QuantizeActivations.Q8_KReference, &QuantizeActivations.Q8_KAvx2);

    [Test]
    public void RoundingToF16AndBf16MatchesConverters()
    {
        var rng = new Random(99);
        for (int n = 0; n <= 70; n++)
        {
            float[] x = new float[n];
            for (int i = 0; i < n; i++)
            {
                x[i] = i % 11 == 10 ? float.NaN : i % 13 == 12 ? 1e6f : (float)(rng.NextDouble() * 200 - 100);
            }
            float[] h = new float[n], b = new float[n], bs = new float[n];
            fixed (float* px = x, ph = h, pb = b, pbs = bs)
            {
                QuantizeActivations.RoundF16Reference(px, (byte*)ph, n);
                QuantizeActivations.RoundBf16Reference(px, (byte*)pb, n);
                if (HasAvx2)
                {
                    QuantizeActivations.RoundBf16Avx2(px, (byte*)pbs, n);
                }
                else
                {
                    QuantizeActivations.RoundBf16Reference(px, (byte*)pbs, n);
                }
            }
            for (int i = 0; i < n; i++)
            {
                Assert.That(BitConverter.SingleToUInt32Bits(h[i]), Is.EqualTo(BitConverter.SingleToUInt32Bits((float)BitConverter.UInt16BitsToHalf(Fp16.ToHalf(x[i])))), $"f16 {x[i]}");
                uint wantB = (uint)Bf16.FromFloat(x[i]) << 16;
                Assert.That(BitConverter.SingleToUInt32Bits(b[i]), Is.EqualTo(wantB), $"bf16 ref {x[i]}");
                Assert.That(BitConverter.SingleToUInt32Bits(bs[i]), Is.EqualTo(wantB), $"bf16 avx2 {x[i]}");
            }
        }
    }

    [Test]
    public void RoundingToF16Avx2IsBitIdenticalToReference()
    {
        if (!HasAvx2)
        {
            Assert.Ignore("No AVX2/FMA on this machine.");
        }
        // Random bit patterns over every exponent, plus f16 boundaries: ties at 10 and at 24 fraction bits (normal and
        // subnormal results), the largest f16, the overflow threshold 65520, f32 subnormals, zeros, inf and NaN.
        var rng = new Random(7);
        var values = new List<float>();
        for (int i = 0; i < 20000; i++)
        {
            values.Add(BitConverter.UInt32BitsToSingle((uint)rng.NextInt64(0, 1L << 32)));
            values.Add((float)(rng.NextDouble() * 2 - 1) * MathF.Pow(2, rng.Next(-30, 18)));
        }
        foreach (float v in new[] { 0f, -0f, 65504f, 65519.99f, 65520f, 65536f, 1e-8f, 5.96e-8f, 2.98e-8f, 2.9802322e-8f, 6.1035156e-5f,
                     6.1e-5f, 6.103515e-5f, 1.0009766f, 1.0004883f, 1.0014648f, 1e-40f, float.Epsilon, float.PositiveInfinity, float.NegativeInfinity, float.NaN })
        {
            values.Add(v);
            values.Add(-v);
        }
        for (int e = -25; e <= 15; e++)
        {
            // Halfway between two f16 neighbours at this exponent, and one f32 step either side.
            float mid = MathF.Pow(2, e) * (1 + 1.5f / 1024);
            values.Add(mid);
            values.Add(BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(mid) + 1));
            values.Add(BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(mid) - 1));
        }
        float[] x = values.ToArray();
        foreach (int n in new[] { x.Length, x.Length - 3, 7 })
        {
            float[] want = new float[n], got = new float[n];
            fixed (float* px = x, pw = want, pg = got)
            {
                QuantizeActivations.RoundF16Reference(px, (byte*)pw, n);
                QuantizeActivations.RoundF16Avx2(px, (byte*)pg, n);
            }
            for (int i = 0; i < n; i++)
            {
                if (BitConverter.SingleToUInt32Bits(got[i]) != BitConverter.SingleToUInt32Bits(want[i]))
                {
                    Assert.Fail($"x = {x[i]:R} (0x{BitConverter.SingleToUInt32Bits(x[i]):X8}): avx2 0x{BitConverter.SingleToUInt32Bits(got[i]):X8}, reference 0x{BitConverter.SingleToUInt32Bits(want[i]):X8}");
                }
            }
        }
    }
}
