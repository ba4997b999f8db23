using Weft.Core;
using Weft.Core.Quants;
using Weft.Cpu.Kernels;

namespace Weft.Cpu.Tests.Kernels;

/// <summary>
/// The flash-attention query kernel with Q8_0 keys and/or values: Reference vs Vector256, and both against an
/// explicit double-precision attention over the dequantized cache, within the bound that the query's own Q8_0
/// rounding sets (ggml's CPU scores Q8_0 keys with a Q8_0 query).
/// </summary>
public unsafe class FlashAttnQ8KernelTests
{
    private static readonly int[] s_headDims = [32, 64, 96, 128];
    private static readonly int[] s_kvLengths = [1, 7, 33];

    private static float[] Random(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();
    }

    private static byte[] Rows(DType type, float[] values, int d, int rows)
    {
        long rowBytes = TypeTraits.Of(type).RowSize(d);
        var bytes = new byte[rowBytes * rows];
        for (int r = 0; r < rows; r++)
        {
            Quantize.Row(type, values.AsSpan(r * d, d), bytes.AsSpan((int)(r * rowBytes), (int)rowBytes));
        }
        return bytes;
    }

    private static float[] Seen(DType type, byte[] bytes, int d, int rows)
    {
        long rowBytes = TypeTraits.Of(type).RowSize(d);
        var f = new float[d * rows];
        for (int r = 0; r < rows; r++)
        {
            Dequantize.Row(type, bytes.AsSpan((int)(r * rowBytes), (int)rowBytes), f.AsSpan(r * d, d));
        }
        return f;
    }

    private static float[] Mask(int nKv)
    {
        float[] m = Random(nKv, 77, 2f);
        for (int j = 1; j < nKv; j += 3)
        {
            m[j] = float.NegativeInfinity;
        }
        return m;
    }

    private static IEnumerable<TestCaseData> TypePairs()
    {
        yield return new TestCaseData(DType.Q8_0, DType.Q8_0);
        yield return new TestCaseData(DType.Q8_0, DType.F16);
        yield return new TestCaseData(DType.F32, DType.Q8_0);
    }

    [TestCaseSource(nameof(TypePairs))]
    public void Vector256MatchesReference(DType kType, DType vType)
    {
        if (!CpuFeatures.UseAvx2)
        {
            Assert.Ignore("AVX2/FMA not available (or WEFT_FORCE_SCALAR=1): only the reference path runs.");
        }
        foreach (int d in s_headDims)
        foreach (int nKv in s_kvLengths)
        {
            float[] q = Random(d, d + nKv, 2f);
            byte[] kb = Rows(kType, Random(d * nKv, 1000 + d), d, nKv), vb = Rows(vType, Random(d * nKv, 2000 + d), d, nKv);
            float[] mask = Mask(nKv), r = new float[d], v = new float[d];
            fixed (float* qp = q, rp = r, vp = v, mp = mask)
            fixed (byte* kp = kb, vbp = vb)
            {
                var kv = new FlashAttnKernel.KvHead((nint)kp, TypeTraits.Of(kType).RowSize(d), kType, (nint)vbp, TypeTraits.Of(vType).RowSize(d), vType);
                foreach (float softcap in new[] { 0f, 3f })
                foreach (bool masked in new[] { false, true })
                {
                    FlashAttnKernel.Reference(qp, d, kv, nKv, d, masked ? mp : null, 0.3f, softcap, rp);
                    FlashAttnKernel.Vector256(qp, d, kv, nKv, d, masked ? mp : null, 0.3f, softcap, vp);
                    for (int i = 0; i < d; i++)
                    {
                        Assert.That(v[i], Is.EqualTo(r[i]).Within(1e-5f + 1e-5f * Math.Abs(r[i])),
                            $"{kType}/{vType} d={d} n_kv={nKv} softcap={softcap} mask={masked} i={i}");
                    }
                }
            }
        }
    }

    /// <summary>
    /// Both paths against double-precision attention over the dequantized keys and values with the unrounded query.
    /// The only modelled difference is the query's Q8_0 rounding: score j moves by at most
    /// δ_j = scale·|Σ_i (q_i - q̂_i)·k_ij| (softcap·tanh(·/softcap) is 1-Lipschitz), which changes every softmax
    /// weight by a factor within e^{±2Δ} (Δ = max δ_j), so each output moves by at most (e^{2Δ} - 1)·max|v|; 1e-5
    /// relative covers the float arithmetic.
    /// </summary>
    [TestCase(false)]
    [TestCase(true)]
    public void StaysWithinTheQueryRoundingBoundOfDequantizedAttention(bool reference)
    {
        if (!reference && !CpuFeatures.UseAvx2)
        {
            Assert.Ignore("AVX2/FMA not available (or WEFT_FORCE_SCALAR=1).");
        }
        const float scale = 0.2f;
        foreach (int d in s_headDims)
        foreach (int nKv in s_kvLengths)
        foreach (float softcap in new[] { 0f, 4f })
        {
            float[] q = Random(d, 5 * d + nKv, 2f);
            byte[] kb = Rows(DType.Q8_0, Random(d * nKv, 3000 + d), d, nKv), vb = Rows(DType.Q8_0, Random(d * nKv, 4000 + d), d, nKv);
            float[] k = Seen(DType.Q8_0, kb, d, nKv), vv = Seen(DType.Q8_0, vb, d, nKv);
            float[] qHat = Seen(DType.Q8_0, Rows(DType.Q8_0, q, d, 1), d, 1);
            float[] mask = Mask(nKv);
            var s = new double[nKv];
            double delta = 0, vMax = vv.Max(Math.Abs);
            for (int j = 0; j < nKv; j++)
            {
                double dot = 0, dq = 0;
                for (int i = 0; i < d; i++)
                {
                    dot += (double)q[i] * k[j * d + i];
                    dq += ((double)q[i] - qHat[i]) * k[j * d + i];
                }
                s[j] = (softcap == 0 ? dot * scale : softcap * Math.Tanh(dot * scale / softcap)) + mask[j];
                delta = Math.Max(delta, scale * Math.Abs(dq));
            }
            double max = s.Where(x => !double.IsNegativeInfinity(x)).Max();
            double sum = s.Sum(x => Math.Exp(x - max));
            var expected = new double[d];
            for (int c = 0; c < d; c++)
            {
                for (int j = 0; j < nKv; j++)
                {
                    expected[c] += Math.Exp(s[j] - max) / sum * vv[j * d + c];
                }
            }
            double bound = (Math.Exp(2 * delta) - 1) * vMax;
            var got = new float[d];
            fixed (float* qp = q, gp = got, mp = mask)
            fixed (byte* kp = kb, vbp = vb)
            {
                var kv = new FlashAttnKernel.KvHead((nint)kp, kb.Length / nKv, DType.Q8_0, (nint)vbp, vb.Length / nKv, DType.Q8_0);
                if (reference)
                {
                    FlashAttnKernel.Reference(qp, d, kv, nKv, d, mp, scale, softcap, gp);
                }
                else
                {
                    FlashAttnKernel.Vector256(qp, d, kv, nKv, d, mp, scale, softcap, gp);
                }
            }
            for (int c = 0; c < d; c++)
            {
                Assert.That(got[c], Is.EqualTo(expected[c]).Within(bound + 1e-5 * (1 + Math.Abs(expected[c]))),
                    $"d={d} n_kv={nKv} softcap={softcap} c={c} (Δ={delta:E2})");
            }
            // The bound is not vacuous: the query rounding is visible but small next to the values.
            Assert.That(bound, Is.LessThan(0.1 * vMax), $"d={d}: query rounding bound {bound:E2}");
        }
    }

    /// <summary>With Q8_0 keys the scores are exactly those of the rounded query: the kernel equals attention with q̂.</summary>
    [Test]
    public void ScoresUseTheQ8_0RoundedQuery()
    {
        const int d = 64, nKv = 9;
        float[] q = Random(d, 11, 2f);
        float[] qHat = Seen(DType.Q8_0, Rows(DType.Q8_0, q, d, 1), d, 1);
        byte[] kb = Rows(DType.Q8_0, Random(d * nKv, 12), d, nKv);
        byte[] vb = Rows(DType.F32, Random(d * nKv, 13), d, nKv);
        float[] a = new float[d], b = new float[d];
        fixed (float* qp = q, qh = qHat, ap = a, bp = b)
        fixed (byte* kp = kb, vbp = vb)
        {
            var kv = new FlashAttnKernel.KvHead((nint)kp, 68, DType.Q8_0, (nint)vbp, d * 4, DType.F32);
            FlashAttnKernel.Reference(qp, d, kv, nKv, d, null, 0.25f, 0f, ap);
            FlashAttnKernel.Reference(qh, d, kv, nKv, d, null, 0.25f, 0f, bp);
        }
        // q̂ re-quantizes to itself (same amax, values on the grid), so both calls see identical Q8_0 queries.
        Assert.That(a, Is.EqualTo(b));
    }
}
