using Weft.Core;
using Weft.Core.Quants;
using Weft.Cpu.Kernels;
using Weft.Cpu.Quants;

namespace Weft.Cpu.Tests.Quants;

/// <summary>
/// Register-tiled prompt kernels: every tile shape (1..4 weight rows × 1..4 activation rows) is bit-identical to the
/// scalar reference of the tile's summation order, on odd and even lengths; that reference agrees with a double
/// dot of the same operands within f32 rounding; the Q8_0-activation tile matches the dequantized operands within
/// f32 rounding of its per-block terms.
/// </summary>
public sealed unsafe class TileKernelTests
{
    private static bool HasAvx2 => CpuFeatures.UseAvx2;

    [Test]
    public void FloatTileIsBitIdenticalToItsReferenceForEveryShape()
    {
        if (!HasAvx2)
        {
            Assert.Ignore("No AVX2/FMA on this machine (or WEFT_FORCE_SCALAR=1).");
        }
        var rng = new Random(11);
        foreach (int k in Enumerable.Range(0, 41).Concat(new[] { 63, 64, 65, 127, 576 }))
        {
            long stride = k + 3; // rows not packed: the kernel must use the stride
            float[] w = new float[4 * stride + 1], x = new float[4 * stride + 1];
            for (int i = 0; i < w.Length; i++)
            {
                w[i] = (float)(rng.NextDouble() * 2 - 1);
                x[i] = (float)(rng.NextDouble() * 2 - 1) * (i % 17 == 0 ? 30f : 1f);
            }
            float[] res = new float[16];
            fixed (float* pw = w, px = x, pr = res)
            {
                for (int rows = 1; rows <= 4; rows++)
                {
                    for (int cols = 1; cols <= 4; cols++)
                    {
                        Array.Fill(res, float.NaN);
                        TileF32.Tile(k, pw, stride, rows, px, stride, cols, pr);
                        for (int c = 0; c < cols; c++)
                        {
                            for (int r = 0; r < rows; r++)
                            {
                                float want = TileF32.DotReference(k, pw + r * stride, px + c * stride);
                                Assert.That(BitConverter.SingleToUInt32Bits(res[c * 4 + r]), Is.EqualTo(BitConverter.SingleToUInt32Bits(want)),
                                    $"k={k} tile {rows}x{cols} [{r},{c}]: {res[c * 4 + r]} vs reference {want}");
                                double exact = 0, mag = 0;
                                for (int i = 0; i < k; i++)
                                {
                                    exact += (double)w[r * stride + i] * x[c * stride + i];
                                    mag += Math.Abs((double)w[r * stride + i] * x[c * stride + i]);
                                }
                                Assert.That(want, Is.EqualTo(exact).Within(mag * 1.2e-7 * (k + 8) + 1e-30), $"k={k} reference vs double");
                            }
                        }
                    }
                }
            }
        }
    }

    [Test]
    public void FloatTileRejectsShapesOutsideFourByFour()
    {
        float[] a = new float[8];
        float[] res = new float[16];
        Assert.Throws<ArgumentOutOfRangeException>(() =>
        {
            fixed (float* p = a, r = res)
            {
                TileF32.Tile(8, p, 8, 5, p, 8, 1, r);
            }
        });
    }

    [Test]
    public void F16AndBf16PanelsWidenExactly()
    {
        var rng = new Random(3);
        const int k = 37;
        ushort[] h = new ushort[3 * 40];
        for (int i = 0; i < h.Length; i++)
        {
            h[i] = (ushort)rng.Next(65536); // every class: normals, subnormals, inf, NaN
        }
        float[] panel = new float[3 * k];
        fixed (ushort* ph = h)
        fixed (float* pp = panel)
        {
            TileF32.DecodeF16((byte*)ph, 80, 3, k, pp);
            for (int r = 0; r < 3; r++)
            {
                for (int i = 0; i < k; i++)
                {
                    float want = (float)BitConverter.UInt16BitsToHalf(h[r * 40 + i]);
                    Assert.That(BitConverter.SingleToUInt32Bits(panel[r * k + i]) == BitConverter.SingleToUInt32Bits(want) || (float.IsNaN(want) && float.IsNaN(panel[r * k + i])),
                        $"f16 0x{h[r * 40 + i]:X4}");
                }
            }
            TileF32.DecodeBf16((byte*)ph, 80, 3, k, pp);
            for (int r = 0; r < 3; r++)
            {
                for (int i = 0; i < k; i++)
                {
                    Assert.That(BitConverter.SingleToUInt32Bits(panel[r * k + i]), Is.EqualTo((uint)h[r * 40 + i] << 16), $"bf16 0x{h[r * 40 + i]:X4}");
                }
            }
        }
    }

    [TestCase(DType.Q4_0)]
    [TestCase(DType.Q5_0)]
    [TestCase(DType.Q8_0)]
    public void Q8TileIsBitIdenticalToItsReferenceAndMatchesDequantizedDot(DType type)
    {
        var rng = new Random(21 + (int)type);
        int wb = TypeTraits.Of(type).TypeSize;
        foreach (int nb in new[] { 1, 2, 3, 7, 18 })
        {
            int k = nb * QK.Simple;
            long wStride = (long)nb * wb + 5, yStride = (long)nb * 34 + 6; // unaligned, non-packed rows
            byte[] w = new byte[4 * wStride], y = new byte[4 * yStride];
            float[][] wd = new float[4][], yd = new float[4][];
            for (int r = 0; r < 4; r++)
            {
                float[] v = new float[k], a = new float[k];
                for (int i = 0; i < k; i++)
                {
                    v[i] = (float)(rng.NextDouble() * 2 - 1) * (i % 23 == 0 ? 5f : 1f);
                    // Skewed activations so block sums (the offset correction) are far from zero.
                    a[i] = (float)(rng.NextDouble() * 2 - 0.6) * (i % 31 == 0 ? 9f : 1f);
                }
                Quantize.Row(type, v, w.AsSpan((int)(r * wStride), nb * wb));
                Quantize.Row(DType.Q8_0, a, y.AsSpan((int)(r * yStride), nb * 34));
                wd[r] = new float[k];
                yd[r] = new float[k];
                Dequantize.Row(type, w.AsSpan((int)(r * wStride), nb * wb), wd[r]);
                Dequantize.Row(DType.Q8_0, y.AsSpan((int)(r * yStride), nb * 34), yd[r]);
            }
            long auxStride = TileQ8_0.AuxRowBytes(nb);
            byte[] aux = new byte[4 * auxStride];
            float[] res = new float[16];
            fixed (byte* pw = w, py = y, pa = aux)
            fixed (float* pr = res)
            {
                for (int c = 0; c < 4; c++)
                {
                    TileQ8_0.PrepareAux(type, py + c * yStride, nb, pa + c * auxStride);
                }
                for (int r = 0; r < 4; r++)
                {
                    for (int c = 0; c < 4; c++)
                    {
                        float want = TileQ8_0.DotReference(type, nb, pw + r * wStride, py + c * yStride);
                        double exact = 0, mag = 0;
                        for (int i = 0; i < k; i++)
                        {
                            exact += (double)wd[r][i] * yd[c][i];
                            mag += Math.Abs((double)wd[r][i] * yd[c][i]);
                        }
                        // Per-block terms: dx*dy and each lane product rounded once (|lane| can exceed the block's
                        // own products by the offset term, up to o*|sum y|/8 per lane), then k/8 f32 additions per lane.
                        double bound = mag * 1.2e-7 * (k / 8 + 8) + 1e-6 * mag + 1e-9;
                        Assert.That(want, Is.EqualTo(exact).Within(bound), $"{type} nb={nb} reference [{r},{c}] vs dequantized dot");
                        Assert.That(want, Is.EqualTo(VecDot.For(type, reference: true).Dot(k, pw + r * wStride, py + c * yStride)).Within(bound),
                            $"{type} nb={nb} reference [{r},{c}] vs the single-row reference kernel");
                    }
                }
                if (!TileQ8_0.IsSupported)
                {
                    Assert.Ignore("No AVX-VNNI on this machine: only the reference was checked.");
                }
                for (int rows = 1; rows <= 4; rows++)
                {
                    for (int cols = 1; cols <= 4; cols++)
                    {
                        Array.Fill(res, float.NaN);
                        TileQ8_0.Tile(type, nb, pw, wStride, rows, py, yStride, pa, auxStride, cols, pr);
                        for (int c = 0; c < cols; c++)
                        {
                            for (int r = 0; r < rows; r++)
                            {
                                float want = TileQ8_0.DotReference(type, nb, pw + r * wStride, py + c * yStride);
                                Assert.That(BitConverter.SingleToUInt32Bits(res[c * 4 + r]), Is.EqualTo(BitConverter.SingleToUInt32Bits(want)),
                                    $"{type} nb={nb} tile {rows}x{cols} [{r},{c}]: {res[c * 4 + r]} vs reference {want}");
                            }
                        }
                    }
                }
            }
        }
    }
}
