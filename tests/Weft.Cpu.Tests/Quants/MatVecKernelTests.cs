using Weft.Core;
using Weft.Core.Quants;
using Weft.Cpu.Kernels;
using Weft.Cpu.Quants;

namespace Weft.Cpu.Tests.Quants;

/// <summary>
/// Decode mat-vec kernel (Q4_0, Q5_0, Q8_0 weights × Q8_0 activations): every row count 1..8, with and without
/// AVX-VNNI, is bit-identical to the scalar reference of its summation order, on odd and even block counts and
/// unaligned, non-packed rows; that reference matches the dequantized operands and the single-row kernel within
/// f32 rounding of its per-block terms.
/// </summary>
public sealed unsafe class MatVecKernelTests
{
    [TestCase(DType.Q4_0)]
    [TestCase(DType.Q5_0)]
    [TestCase(DType.Q8_0)]
    public void RowsAreBitIdenticalToTheReferenceAndMatchTheDequantizedDot(DType type)
    {
        var rng = new Random(31 + (int)type);
        int wb = TypeTraits.Of(type).TypeSize;
        const int rowsMax = MatVecQ8_0.MaxRows;
        foreach (int nb in new[] { 1, 2, 3, 7, 18, 48 })
        {
            int k = nb * QK.Simple;
            long wStride = (long)nb * wb + 7; // unaligned, non-packed rows
            byte[] w = new byte[rowsMax * wStride + 3], y = new byte[nb * 34 + 1];
            float[][] wd = new float[rowsMax][];
            float[] a = new float[k], yd = new float[k];
            for (int i = 0; i < k; i++)
            {
                // Skewed activations so block sums (the offset correction) are far from zero.
                a[i] = (float)(rng.NextDouble() * 2 - 0.6) * (i % 31 == 0 ? 9f : 1f);
            }
            Quantize.Row(DType.Q8_0, a, y.AsSpan(1, nb * 34));
            Dequantize.Row(DType.Q8_0, y.AsSpan(1, nb * 34), yd);
            for (int r = 0; r < rowsMax; r++)
            {
                float[] v = new float[k];
                for (int i = 0; i < k; i++)
                {
                    v[i] = (float)(rng.NextDouble() * 2 - 1) * (i % 23 == 0 ? 5f : 1f);
                }
                Quantize.Row(type, v, w.AsSpan((int)(3 + r * wStride), nb * wb));
                wd[r] = new float[k];
                Dequantize.Row(type, w.AsSpan((int)(3 + r * wStride), nb * wb), wd[r]);
            }
            byte[] aux = new byte[MatVecQ8_0.AuxRowBytes(type, nb)];
            float[] res = new float[rowsMax + 1];
            fixed (byte* pw0 = w, py0 = y, pa = aux)
            fixed (float* pr = res)
            {
                byte* pw = pw0 + 3, py = py0 + 1;
                var want = new float[rowsMax];
                for (int r = 0; r < rowsMax; r++)
                {
                    want[r] = MatVecQ8_0.DotReference(type, nb, pw + r * wStride, py);
                    double exact = 0, mag = 0;
                    for (int i = 0; i < k; i++)
                    {
                        exact += (double)wd[r][i] * yd[i];
                        mag += Math.Abs((double)wd[r][i] * yd[i]);
                    }
                    // Per block: dx*dy and each lane product rounded once (a lane can exceed the block's own products
                    // by the offset term), then k/8 f32 additions per lane and the final sum of the lanes.
                    double bound = mag * 1.2e-7 * (k / 4 + 8) + 1e-6 * mag + 1e-9;
                    Assert.That(want[r], Is.EqualTo(exact).Within(bound), $"{type} nb={nb} reference row {r} vs dequantized dot");
                    Assert.That(want[r], Is.EqualTo(VecDot.For(type, reference: true).Dot(k, pw + r * wStride, py)).Within(bound),
                        $"{type} nb={nb} reference row {r} vs the single-row reference kernel");
                }
                if (!MatVecQ8_0.IsSupported)
                {
                    Assert.Ignore("No AVX2/FMA on this machine (or WEFT_FORCE_SCALAR=1): only the reference was checked.");
                }
                MatVecQ8_0.PrepareAux(type, py, nb, pa);
                for (int rows = 1; rows <= rowsMax; rows++)
                {
                    for (int path = 0; path < 2; path++)
                    {
                        Array.Fill(res, float.NaN);
                        if (path == 0)
                        {
                            MatVecQ8_0.Rows(type, nb, pw, wStride, rows, py, pa, pr);
                        }
                        else
                        {
                            MatVecQ8_0.RowsAvx2(type, nb, pw, wStride, rows, py, pa, pr);
                        }
                        string name = path == 0 ? (MatVecQ8_0.UsesVnni ? "VNNI" : "AVX2") : "AVX2";
                        for (int r = 0; r < rows; r++)
                        {
                            Assert.That(BitConverter.SingleToUInt32Bits(res[r]), Is.EqualTo(BitConverter.SingleToUInt32Bits(want[r])),
                                $"{type} nb={nb} {name} {rows} rows, row {r}: {res[r]} vs reference {want[r]}");
                        }
                        Assert.That(float.IsNaN(res[rows]), $"{type} nb={nb} {name} {rows} rows wrote past its rows");
                    }
                }
            }
        }
    }

    [Test]
    public void RowCountsOutsideOneToEightAndOtherTypesAreRejected()
    {
        byte[] buf = new byte[1024];
        float[] res = new float[16];
        fixed (byte* p = buf)
        fixed (float* r = res)
        {
            byte* pp = p;
            float* rr = r;
            Assert.Throws<ArgumentOutOfRangeException>(() => MatVecQ8_0.Rows(DType.Q4_0, 1, pp, 18, 0, pp, pp, rr));
            Assert.Throws<ArgumentOutOfRangeException>(() => MatVecQ8_0.Rows(DType.Q4_0, 1, pp, 18, 9, pp, pp, rr));
            Assert.Throws<ArgumentOutOfRangeException>(() => MatVecQ8_0.Rows(DType.Q4_K, 1, pp, 18, 1, pp, pp, rr));
            Assert.Throws<ArgumentOutOfRangeException>(() => MatVecQ8_0.AuxRowBytes(DType.F16, 1));
        }
        Assert.That(MatVecQ8_0.Handles(DType.Q4_K), Is.False);
        Assert.That(MatVecQ8_0.Handles(DType.Q8_0), Is.True);
    }
}
