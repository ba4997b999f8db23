using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Weft.Core.Quants;

namespace Weft.Core.Tests.Quants;

public class QuantizeTests
{
    // ggml tests/test-quantize-fns.cpp: MAX_QUANTIZATION_TOTAL_ERROR applies to every type Weft produces
    // (the 2-bit and 3-bit bounds, 0.0075 and 0.0040, are for Q2_K/Q3_K/IQ types that Weft does not quantize to).
    private const float MaxQuantizationTotalError = 0.002f;

    private static readonly DType[] s_quantTypes =
        [DType.Q4_0, DType.Q4_1, DType.Q5_0, DType.Q5_1, DType.Q8_0, DType.Q8_1, DType.Q4_K, DType.Q5_K, DType.Q6_K, DType.Q8_K];

    private static readonly DType[] s_allTypes = [DType.F32, DType.F16, DType.BF16, .. s_quantTypes];

    // test-quantize-fns generate_data: dst[i] = 0.1 + 2*cosf(i + offset) (the sum is done in double, then stored).
    private static float[] GgmlSyntheticData(int n, float offset = 0f)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = (float)(0.1 + 2 * MathF.Cos(i + offset));
        }
        return x;
    }

    // test-quantize-fns array_rmse: sqrt(sum of squared differences) / n.
    private static float GgmlArrayRmse(float[] a, float[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double diff = a[i] - b[i];
            sum += diff * diff;
        }
        return MathF.Sqrt((float)sum) / a.Length;
    }

    private static byte[] Q(DType type, float[] x)
    {
        var bytes = new byte[TypeTraits.Of(type).RowSize(x.Length)];
        Quantize.Row(type, x, bytes);
        return bytes;
    }

    private static float[] DQ(DType type, byte[] bytes, int n)
    {
        var y = new float[n];
        Dequantize.Row(type, bytes, y);
        return y;
    }

    private static float[] RandomData(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            // Roughly Gaussian (sum of uniforms) with occasional outliers, like real weight rows.
            double g = rng.NextDouble() + rng.NextDouble() + rng.NextDouble() - 1.5;
            if (rng.Next(64) == 0)
            {
                g *= 8;
            }
            x[i] = (float)(g * scale);
        }
        return x;
    }

    [TestCaseSource(nameof(s_allTypes))]
    public void RoundTripErrorWithinGgmlBound(DType type)
    {
        float[] x = GgmlSyntheticData(4096);
        float[] y = DQ(type, Q(type, x), x.Length);
        float err = GgmlArrayRmse(x, y);
        TestContext.Out.WriteLine($"{TypeTraits.Of(type).Name}: ggml total quantization error {err:G6}");
        Assert.That(err, Is.LessThan(MaxQuantizationTotalError));
    }

    // A true per-element bound for the absmax types: |x - q*d| <= d/2 (rounding) + 127 * |d - f16(d)| (scale rounding).
    [TestCase(DType.Q8_0)]
    [TestCase(DType.Q8_1)]
    public void Q8RoundTripIsWithinHalfAStepPerElement(DType type)
    {
        float[] x = RandomData(32 * 37, 11);
        float[] y = DQ(type, Q(type, x), x.Length);
        for (int b = 0; b < x.Length / 32; b++)
        {
            float amax = 0;
            for (int j = 0; j < 32; j++)
            {
                amax = Math.Max(amax, Math.Abs(x[b * 32 + j]));
            }
            float d = amax / 127;
            float bound = d * (0.5f + 127f / 2048f) + 1e-7f;
            for (int j = 0; j < 32; j++)
            {
                Assert.That(Math.Abs(x[b * 32 + j] - y[b * 32 + j]), Is.LessThanOrEqualTo(bound), $"block {b} element {j}");
            }
        }
    }

    [Test]
    public void Q8_KRoundTripIsWithinHalfAStepPerElement()
    {
        float[] x = RandomData(256 * 5, 12);
        float[] y = DQ(DType.Q8_K, Q(DType.Q8_K, x), x.Length);
        for (int b = 0; b < 5; b++)
        {
            float amax = x.Skip(b * 256).Take(256).Max(Math.Abs);
            float bound = amax / 127 * 0.5001f;
            for (int j = 0; j < 256; j++)
            {
                Assert.That(Math.Abs(x[b * 256 + j] - y[b * 256 + j]), Is.LessThanOrEqualTo(bound));
            }
        }
    }

    [TestCase(1)]
    [TestCase(3)]
    [TestCase(4)]
    [TestCase(7)]
    public void SimpleTypesMatchIndependentTranscriptionByteForByte(int superBlocks)
    {
        for (int seed = 0; seed < 4; seed++)
        {
            float[] x = RandomData(256 * superBlocks, 1000 + seed, scale: seed switch { 0 => 1f, 1 => 0.02f, 2 => 37f, _ => 1e-3f });
            Assert.That(Q(DType.Q4_0, x), Is.EqualTo(GgmlReferenceTranscription.Q4_0(x)), $"q4_0 seed {seed}");
            Assert.That(Q(DType.Q4_1, x), Is.EqualTo(GgmlReferenceTranscription.Q4_1(x)), $"q4_1 seed {seed}");
            Assert.That(Q(DType.Q5_0, x), Is.EqualTo(GgmlReferenceTranscription.Q5_0(x)), $"q5_0 seed {seed}");
            Assert.That(Q(DType.Q5_1, x), Is.EqualTo(GgmlReferenceTranscription.Q5_1(x)), $"q5_1 seed {seed}");
            Assert.That(Q(DType.Q8_0, x), Is.EqualTo(GgmlReferenceTranscription.Q8_0(x)), $"q8_0 seed {seed}");
        }
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void KTypesMatchIndependentTranscriptionByteForByte(int superBlocks)
    {
        for (int seed = 0; seed < 3; seed++)
        {
            float[] x = RandomData(256 * superBlocks, 2000 + seed, scale: seed == 1 ? 0.05f : 1f);
            Assert.That(Q(DType.Q6_K, x), Is.EqualTo(GgmlReferenceTranscription.Q6_K(x)), $"q6_k seed {seed}");
            Assert.That(Q(DType.Q4_K, x), Is.EqualTo(GgmlReferenceTranscription.Q4_K(x)), $"q4_k seed {seed}");
            Assert.That(Q(DType.Q5_K, x), Is.EqualTo(GgmlReferenceTranscription.Q5_K(x)), $"q5_k seed {seed}");
            Assert.That(Q(DType.Q8_K, x), Is.EqualTo(GgmlReferenceTranscription.Q8_K(x)), $"q8_k seed {seed}");
        }
        float[] synthetic = GgmlSyntheticData(256 * superBlocks, 0.5f);
        Assert.That(Q(DType.Q6_K, synthetic), Is.EqualTo(GgmlReferenceTranscription.Q6_K(synthetic)));
        Assert.That(Q(DType.Q4_K, synthetic), Is.EqualTo(GgmlReferenceTranscription.Q4_K(synthetic)));
        Assert.That(Q(DType.Q5_K, synthetic), Is.EqualTo(GgmlReferenceTranscription.Q5_K(synthetic)));
    }

    [TestCaseSource(nameof(s_allTypes))]
    public void AllZerosGiveZeros(DType type)
    {
        int n = TypeTraits.Of(type).BlockSize == 256 ? 512 : 64;
        var x = new float[n];
        byte[] q = Q(type, x);
        Assert.That(DQ(type, q, n), Is.All.EqualTo(0f));
        // Not all-zero bytes in general: ggml stores d = -0 and level 8 (0x88) for a zero Q4_0 block, and Q5_0 sets every fifth bit.
        if (type == DType.Q4_0)
        {
            Assert.That(q, Is.EqualTo(GgmlReferenceTranscription.Q4_0(x)));
            Assert.That(q[..18], Is.EqualTo(new byte[] { 0x00, 0x80 }.Concat(Enumerable.Repeat((byte)0x88, 16))));
        }
    }

    // Values already on a type's grid come back exactly: d and the offsets are powers of two, so every step is exact.
    [TestCase(DType.Q4_0)]
    [TestCase(DType.Q4_1)]
    [TestCase(DType.Q5_0)]
    [TestCase(DType.Q5_1)]
    [TestCase(DType.Q8_0)]
    [TestCase(DType.Q8_1)]
    [TestCase(DType.Q8_K)]
    [TestCase(DType.F16)]
    [TestCase(DType.BF16)]
    public void ValuesOnTheGridRoundTripExactly(DType type)
    {
        var rng = new Random(77);
        int bs = TypeTraits.Of(type).BlockSize;
        int n = Math.Max(bs, 32) * 3;
        var x = new float[n];
        for (int b = 0; b < n / Math.Max(bs, 32); b++)
        {
            int size = Math.Max(bs, 32);
            float d = MathF.Pow(2, rng.Next(-6, 3));
            for (int j = 0; j < size; j++)
            {
                x[b * size + j] = type switch
                {
                    DType.Q4_0 => (rng.Next(16) - 8) * d,
                    DType.Q4_1 => rng.Next(16) * d - 1f,
                    DType.Q5_0 => (rng.Next(32) - 16) * d,
                    DType.Q5_1 => rng.Next(32) * d - 2f,
                    DType.Q8_0 or DType.Q8_1 => rng.Next(-127, 128) * d,
                    DType.Q8_K => rng.Next(-127, 128) * d,
                    DType.F16 => (rng.Next(-2048, 2048) / 64f) * d,
                    _ => (rng.Next(-128, 128) / 8f) * d,
                };
            }
            // Pin the extremes that define the scale: the largest magnitude (with ggml's sign) or the min and max.
            Span<float> blk = x.AsSpan(b * size, size);
            switch (type)
            {
                case DType.Q4_0: blk[5] = -8 * d; break;
                case DType.Q4_1: blk[3] = -1f; blk[9] = 15 * d - 1f; break;
                case DType.Q5_0: blk[5] = -16 * d; break;
                case DType.Q5_1: blk[3] = -2f; blk[9] = 31 * d - 2f; break;
                case DType.Q8_0 or DType.Q8_1: blk[7] = 127 * d; break;
                case DType.Q8_K: blk[7] = -127 * d; break;
            }
        }
        float[] y = DQ(type, Q(type, x), n);
        Assert.That(y, Is.EqualTo(x));
    }

    [TestCase(DType.Q4_0, -8)]
    [TestCase(DType.Q5_0, -16)]
    public void MaxAbsTieTakesTheSignOfTheFirstOccurrence(DType type, int lowest)
    {
        // +a first: d = a / lowest < 0, so +a maps to the lowest level and comes back exactly; -a is clamped.
        var x = new float[32];
        x[3] = 4f;
        x[20] = -4f;
        float[] y = DQ(type, Q(type, x), 32);
        Assert.That(y[3], Is.EqualTo(4f));
        Assert.That(y[20], Is.EqualTo(-4f * (-lowest - 1) / -lowest));
        // Reversed order: -a first, so -a is exact and +a is clamped.
        x[3] = -4f;
        x[20] = 4f;
        y = DQ(type, Q(type, x), 32);
        Assert.That(y[3], Is.EqualTo(-4f));
        Assert.That(y[20], Is.EqualTo(4f * (-lowest - 1) / -lowest));
        Assert.That(Q(type, x), Is.EqualTo(type == DType.Q4_0 ? GgmlReferenceTranscription.Q4_0(x) : GgmlReferenceTranscription.Q5_0(x)));
    }

    [TestCaseSource(nameof(s_quantTypes))]
    public void SingleHugeValueIsKeptAndSmallOnesDoNotExplode(DType type)
    {
        int n = TypeTraits.Of(type).BlockSize == 256 ? 256 : 32;
        var x = new float[n];
        var rng = new Random(5);
        for (int i = 0; i < n; i++)
        {
            x[i] = (float)(rng.NextDouble() - 0.5) * 1e-3f;
        }
        x[n / 2 + 1] = 3000f;
        float[] y = DQ(type, Q(type, x), n);
        Assert.That(y, Is.All.Not.NaN);
        Assert.That(Math.Abs(y[n / 2 + 1] - 3000f), Is.LessThan(3000f * 0.02f), "the huge value");
        for (int i = 0; i < n; i++)
        {
            if (i != n / 2 + 1)
            {
                // Small values land on the lowest level near zero: within one step of the huge value's scale.
                Assert.That(Math.Abs(y[i] - x[i]), Is.LessThan(3000f / 7f), $"element {i}");
            }
        }
    }

    [TestCaseSource(nameof(s_quantTypes))]
    public void NegativeOnlyBlocksRoundTrip(DType type)
    {
        // ggml's synthetic vector folded to strictly negative values: min/max, absmax sign and offsets all change.
        float[] x = GgmlSyntheticData(4096).Select(v => -Math.Abs(v) - 0.01f).ToArray();
        float[] y = DQ(type, Q(type, x), x.Length);
        Assert.That(y, Is.All.Not.NaN);
        float err = GgmlArrayRmse(x, y);
        TestContext.Out.WriteLine($"{TypeTraits.Of(type).Name}: negative-only error {err:G6}");
        Assert.That(err, Is.LessThan(MaxQuantizationTotalError));
    }

    [TestCaseSource(nameof(s_allTypes))]
    public void WrongLengthsThrowArgumentExceptionNamingTheType(DType type)
    {
        TypeTraits t = TypeTraits.Of(type);
        int n = t.BlockSize * 2;
        var ok = new byte[t.RowSize(n)];
        if (t.BlockSize > 1)
        {
            var ex = Assert.Throws<ArgumentException>(() => Quantize.Row(type, new float[n - 1], ok));
            Assert.That(ex!.Message, Does.Contain(t.Name).And.Contain((n - 1).ToString()));
            ex = Assert.Throws<ArgumentException>(() => Dequantize.Row(type, ok, new float[n + 1]));
            Assert.That(ex!.Message, Does.Contain(t.Name));
        }
        var ex2 = Assert.Throws<ArgumentException>(() => Quantize.Row(type, new float[n], new byte[ok.Length + 1]));
        Assert.That(ex2!.Message, Does.Contain(t.Name).And.Contain((ok.Length + 1).ToString()));
        ex2 = Assert.Throws<ArgumentException>(() => Dequantize.Row(type, new byte[ok.Length - 1], new float[n]));
        Assert.That(ex2!.Message, Does.Contain(t.Name).And.Contain((ok.Length - 1).ToString()));
    }

    [TestCase(DType.Q2_K)]
    [TestCase(DType.IQ4_NL)]
    [TestCase(DType.I32)]
    public void UnsupportedTypesThrowNotSupported(DType type)
    {
        var ex = Assert.Throws<NotSupportedException>(() => Quantize.Row(type, new float[256], new byte[1024]));
        Assert.That(ex!.Message, Does.Contain(TypeTraits.Of(type).Name));
        Assert.Throws<NotSupportedException>(() => Dequantize.Row(type, new byte[1024], new float[256]));
        Assert.That(Quantize.IsSupported(type), Is.False);
    }

    [Test]
    public void EmptyRowsAreAccepted()
    {
        foreach (DType type in s_allTypes)
        {
            Quantize.Row(type, [], []);
            Dequantize.Row(type, [], []);
        }
    }

    [Test]
    public void Q8_1SumFieldIsDTimesSumOfQuants()
    {
        float[] x = RandomData(64, 3);
        byte[] q = Q(DType.Q8_1, x);
        for (int b = 0; b < 2; b++)
        {
            BlockQ8_1 blk = MemoryMarshal.Read<BlockQ8_1>(q.AsSpan(b * 36));
            int sum = 0;
            for (int j = 0; j < 32; j++)
            {
                sum += (sbyte)q[b * 36 + 4 + j];
            }
            float d = Fp16.ToFloat(BinaryPrimitives.ReadUInt16LittleEndian(q.AsSpan(b * 36)));
            Assert.That(blk.S, Is.EqualTo((Half)(sum * d)));
        }
    }

    [Test]
    public void Q8_KBlockSumsMatchTheirQuants()
    {
        float[] x = RandomData(512, 4);
        byte[] q = Q(DType.Q8_K, x);
        for (int b = 0; b < 2; b++)
        {
            BlockQ8_K blk = MemoryMarshal.Read<BlockQ8_K>(q.AsSpan(b * 292));
            for (int g = 0; g < 16; g++)
            {
                int sum = 0;
                for (int j = 0; j < 16; j++)
                {
                    sum += (sbyte)q[b * 292 + 4 + g * 16 + j];
                }
                unsafe
                {
                    Assert.That(blk.BSums[g], Is.EqualTo(sum));
                }
            }
            float amax = x.Skip(b * 256).Take(256).Max(Math.Abs);
            Assert.That(Math.Abs(blk.D), Is.EqualTo(amax / 127).Within(1e-6f * amax));
        }
    }
}
