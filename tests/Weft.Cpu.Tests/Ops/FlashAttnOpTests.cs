using Weft.Core;
using Weft.Core.Quants;
using Weft.Cpu.Ops;

namespace Weft.Cpu.Tests.Ops;

public unsafe class FlashAttnOpTests
{
    /// <summary>
    /// Builds a KV cache laid out as llama.cpp does ([D·H_kv, n_ctx]: heads interleaved in one row per position) and
    /// returns the [D, n_kv, H_kv] strided view of its first n_kv positions.
    /// </summary>
    private static Tensor CacheView(OpHost h, GraphBuilder g, DType type, float[] values, int d, int nCtx, int hKv, int nKv)
    {
        Tensor cache = h.Place(Tensor.NewLeaf(type, (long)d * hKv, nCtx));
        for (int i = 0; i < values.Length; i++)
        {
            if (type == DType.F16)
            {
                ((ushort*)cache.Data)[i] = Fp16.ToHalf(values[i]);
            }
            else
            {
                ((float*)cache.Data)[i] = values[i];
            }
        }
        Tensor view = g.View(cache, Long4.Of(d, nKv, hKv), cache.Nb[1], (long)d * cache.Traits.TypeSize, cache.Nb[1] * nKv, 0);
        return h.Place(view);
    }

    private static float Stored(DType type, float v) => type == DType.F16 ? Fp16.ToFloat(Fp16.ToHalf(v)) : v;

    [TestCase(DType.F32, 16, 16, 5, 4, 4, 12, true, 7, false, 0f)]
    [TestCase(DType.F16, 64, 64, 3, 8, 2, 20, true, 10, false, 0f)]  // GQA 4:1, f16 cache
    [TestCase(DType.F16, 36, 20, 4, 6, 1, 9, false, 0, true, 0f)]    // MQA, Dv ≠ D, odd dims, mask
    [TestCase(DType.F32, 128, 128, 1, 2, 2, 130, true, 129, false, 0f)] // decode step over 130 keys
    [TestCase(DType.F16, 10, 10, 6, 3, 3, 6, true, 0, true, 0f)]     // prompt, causal + mask
    [TestCase(DType.F32, 24, 24, 3, 2, 1, 7, true, 4, true, 0.8f)]   // logit soft-capping
    public void MatchesExplicitSoftmaxAttention(DType kvType, int d, int dv, int nQ, int nHead, int nHeadKv, int nKv, bool causal, int nPast, bool withMask, float softcap)
    {
        const int nCtx = 160;
        float scale = 1f / MathF.Sqrt(d);
        float[] q = OpHost.Random(d * nQ * nHead, 61, 1.5f);
        float[] k = OpHost.Random(d * nHeadKv * nCtx, 62, 1.5f);
        float[] v = OpHost.Random(dv * nHeadKv * nCtx, 63, 1f);
        float[]? mask = withMask ? OpHost.Random(nKv * nQ, 64, 1f) : null;
        if (mask is not null)
        {
            for (int i = 0; i < mask.Length; i += 4)
            {
                mask[i] = float.NegativeInfinity;
            }
        }
        float[] got = OpHost.RunThreads(new FlashAttnOp(), h =>
        {
            var g = new GraphBuilder();
            Tensor tq = h.F32(q, d, nQ, nHead);
            Tensor tk = CacheView(h, g, kvType, k, d, nCtx, nHeadKv, nKv);
            Tensor tv = CacheView(h, g, kvType, v, dv, nCtx, nHeadKv, nKv);
            Tensor? tm = mask is null ? null : h.F32(mask, nKv, nQ);
            return g.FlashAttn(tq, tk, tv, scale, causal, nPast, tm, softcap);
        });

        var expected = new double[dv * nHead * nQ];
        int group = nHead / nHeadKv;
        for (int iq = 0; iq < nQ; iq++)
        for (int hh = 0; hh < nHead; hh++)
        {
            int hk = hh / group;
            var s = new double[nKv];
            double max = double.NegativeInfinity;
            for (int j = 0; j < nKv; j++)
            {
                double dot = 0;
                for (int i = 0; i < d; i++)
                {
                    dot += (double)q[(hh * nQ + iq) * d + i] * Stored(kvType, k[j * d * nHeadKv + hk * d + i]);
                }
                s[j] = (softcap == 0 ? dot * scale : softcap * Math.Tanh(dot * scale / softcap)) + (mask is null ? 0 : mask[iq * nKv + j]);
                if (causal && j > nPast + iq)
                {
                    s[j] = double.NegativeInfinity;
                }
                max = Math.Max(max, s[j]);
            }
            double sum = 0;
            for (int j = 0; j < nKv; j++)
            {
                s[j] = double.IsNegativeInfinity(s[j]) ? 0 : Math.Exp(s[j] - max);
                sum += s[j];
            }
            for (int c = 0; c < dv; c++)
            {
                double o = 0;
                for (int j = 0; j < nKv; j++)
                {
                    o += s[j] / sum * Stored(kvType, v[j * dv * nHeadKv + hk * dv + c]);
                }
                expected[(iq * nHead + hh) * dv + c] = double.IsNegativeInfinity(max) ? 0 : o;
            }
        }
        OpHost.AssertClose(expected, got, 2e-5, $"flash_attn {kvType}");
    }

    /// <summary>
    /// A Q8_0 cache written by SetRows (llama.cpp layout, GQA 2:1, odd n_kv, causal + F16 mask) read through strided
    /// views: equals explicit double attention over the dequantized cache with the query rounded to Q8_0, as ggml's
    /// CPU scores Q8_0 keys.
    /// </summary>
    [TestCase(32, 5, 4, 2, 13)]
    [TestCase(64, 1, 2, 1, 31)]
    [TestCase(96, 3, 2, 2, 7)]
    [TestCase(128, 2, 4, 2, 9)]
    public void Q8_0CacheMatchesAttentionWithTheRoundedQuery(int d, int nQ, int nHead, int nHeadKv, int nKv)
    {
        const int nCtx = 40;
        int nPast = nKv - nQ;
        float scale = 1f / MathF.Sqrt(d);
        float[] q = OpHost.Random(d * nQ * nHead, 81, 1.5f);
        float[] k = OpHost.Random(d * nHeadKv * nKv, 82, 1.5f);
        float[] v = OpHost.Random(d * nHeadKv * nKv, 83, 1f);
        float[] mask = OpHost.Random(nKv * nQ, 84, 1f);
        for (int i = 1; i < mask.Length; i += 5)
        {
            mask[i] = float.NegativeInfinity;
        }
        int[] rows = Enumerable.Range(0, nKv).ToArray();
        float[] got = OpHost.RunThreads(new FlashAttnOp(), h =>
        {
            var g = new GraphBuilder();
            Tensor kc = h.Place(Tensor.NewLeaf(DType.Q8_0, (long)d * nHeadKv, nCtx)), vc = h.Place(Tensor.NewLeaf(DType.Q8_0, (long)d * nHeadKv, nCtx));
            Tensor ks = g.SetRows(kc, h.F32(k, (long)d * nHeadKv, nKv), h.I32(rows, nKv));
            Tensor vs = g.SetRows(vc, h.F32(v, (long)d * nHeadKv, nKv), h.I32(rows, nKv));
            h.Run(new SetRowsOp(), ks, 1);
            h.Run(new SetRowsOp(), vs, 1);
            long rb = TypeTraits.Of(DType.Q8_0).RowSize(d);
            Tensor kv = h.Place(g.View(ks, Long4.Of(d, nKv, nHeadKv), kc.Nb[1], rb, kc.Nb[1] * nKv, 0));
            Tensor vv = h.Place(g.View(vs, Long4.Of(d, nKv, nHeadKv), vc.Nb[1], rb, vc.Nb[1] * nKv, 0));
            Tensor m = h.Place(Tensor.NewLeaf(DType.F16, nKv, nQ));
            for (int i = 0; i < mask.Length; i++)
            {
                ((ushort*)m.Data)[i] = Fp16.ToHalf(mask[i]);
            }
            return g.FlashAttn(h.F32(q, d, nQ, nHead), kv, vv, scale, true, nPast, m);
        });

        float[] kSeen = RoundTrip(k, d * nHeadKv), vSeen = RoundTrip(v, d * nHeadKv);
        var expected = new double[d * nHead * nQ];
        for (int iq = 0; iq < nQ; iq++)
        for (int hh = 0; hh < nHead; hh++)
        {
            int hk = hh / (nHead / nHeadKv);
            float[] qHat = RoundTrip(q.AsSpan((hh * nQ + iq) * d, d).ToArray(), d);
            var s = new double[nKv];
            for (int j = 0; j < nKv; j++)
            {
                double dot = 0;
                for (int i = 0; i < d; i++)
                {
                    dot += (double)qHat[i] * kSeen[j * d * nHeadKv + hk * d + i];
                }
                float mv = Fp16.ToFloat(Fp16.ToHalf(mask[iq * nKv + j]));
                s[j] = j > nPast + iq ? double.NegativeInfinity : dot * scale + mv;
            }
            double max = s.Max(), sum = s.Sum(x => Math.Exp(x - max));
            for (int c = 0; c < d; c++)
            {
                double o = 0;
                for (int j = 0; j < nKv; j++)
                {
                    o += Math.Exp(s[j] - max) / sum * vSeen[j * d * nHeadKv + hk * d + c];
                }
                expected[(iq * nHead + hh) * d + c] = o;
            }
        }
        OpHost.AssertClose(expected, got, 2e-5, $"flash_attn q8_0 d={d}");
    }

    private static float[] RoundTrip(float[] x, int rowLen)
    {
        var bytes = new byte[TypeTraits.Of(DType.Q8_0).RowSize(x.Length)];
        var r = new float[x.Length];
        Quantize.Row(DType.Q8_0, x, bytes);
        Dequantize.Row(DType.Q8_0, bytes, r);
        Assert.That(x.Length % rowLen, Is.EqualTo(0));
        return r;
    }

    [Test]
    public void FullyMaskedQueryGivesZeros()
    {
        float[] q = OpHost.Random(8 * 2, 1), k = OpHost.Random(8 * 3, 2), v = OpHost.Random(8 * 3, 3);
        float[] mask = [float.NegativeInfinity, float.NegativeInfinity, float.NegativeInfinity, 0f, 0f, 0f];
        float[] got = OpHost.RunThreads(new FlashAttnOp(), h =>
            new GraphBuilder().FlashAttn(h.F32(q, 8, 2, 1), h.F32(k, 8, 3, 1), h.F32(v, 8, 3, 1), 0.3f, false, 0, h.F32(mask, 3, 2)));
        Assert.That(got.Take(8), Is.All.EqualTo(0f));
        Assert.That(got.Skip(8).Any(float.IsNaN), Is.False);
    }

    [Test]
    public void UnsupportedTypesAreRefused()
    {
        var g = new GraphBuilder();
        Tensor q = Tensor.NewLeaf(DType.F32, 32, 2, 4), k = Tensor.NewLeaf(DType.F16, 32, 5, 2), v = Tensor.NewLeaf(DType.F16, 32, 5, 2);
        Tensor node = g.FlashAttn(q, k, v, 0.2f);
        Assert.That(new FlashAttnOp().Supports(node), Is.True);
        node.Src[1] = Tensor.NewLeaf(DType.Q8_0, 32, 5, 2);
        Assert.That(new FlashAttnOp().Supports(node), Is.True);
        node.Src[1] = Tensor.NewLeaf(DType.Q4_0, 32, 5, 2);
        Assert.That(new FlashAttnOp().Supports(node), Is.False);
        node.Src[1] = Tensor.NewLeaf(DType.F16, 32, 5, 3); // 3 KV heads do not divide 4
        Assert.That(new FlashAttnOp().Supports(node), Is.False);
    }
}
