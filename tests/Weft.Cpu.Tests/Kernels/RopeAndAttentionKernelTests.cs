using Weft.Core;
using Weft.Core.Quants;
using Weft.Cpu.Kernels;

namespace Weft.Cpu.Tests.Kernels;

/// <summary>Reference vs Vector256 of the rope row and the flash-attention query kernels for every length 0..256.</summary>
public unsafe class RopeAndAttentionKernelTests
{
    [SetUp]
    public void RequireAvx2()
    {
        if (!CpuFeatures.UseAvx2)
        {
            Assert.Ignore("AVX2/FMA not available (or WEFT_FORCE_SCALAR=1): only the reference path runs.");
        }
    }

    private static float[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    [TestCase(RopeMode.Normal)]
    [TestCase(RopeMode.NeoX)]
    public void RopeRowVectorMatchesReference(int mode)
    {
        for (int ne0 = 0; ne0 <= 256; ne0++)
        {
            foreach (int nDims in new[] { ne0 & ~1, (ne0 / 2) & ~1 }.Distinct())
            {
                if (nDims == 0)
                {
                    continue;
                }
                float[] x = Random(ne0, 100 + ne0);
                float[] cos = new float[nDims / 2], sin = new float[nDims / 2];
                RopeKernel.CacheInit(17, nDims, 10000f, 1f, default, 0, 0, 0f, 1f, cos, sin);
                float[] r = new float[ne0], v = new float[ne0];
                RopeKernel.Reference(x, r, cos, sin, nDims, mode);
                RopeKernel.Vector256(x, v, cos, sin, nDims, mode);
                for (int i = 0; i < ne0; i++)
                {
                    Assert.That(v[i], Is.EqualTo(r[i]).Within(1e-6f), $"ne0={ne0} n_dims={nDims} i={i}");
                }
                for (int i = nDims; i < ne0; i++)
                {
                    Assert.That(v[i], Is.EqualTo(x[i]), "dims past n_dims pass through");
                }
            }
        }
    }

    [TestCase(DType.F32)]
    [TestCase(DType.F16)]
    public void FlashAttnQueryVectorMatchesReference(DType type)
    {
        const int nKv = 6;
        for (int d = 0; d <= 256; d++)
        {
            float[] q = Random(d, d), kf = Random(d * nKv, 1000 + d), vf = Random(d * nKv, 2000 + d);
            float[] mask = [0f, float.NegativeInfinity, 0.5f, -1f, 0f, float.NegativeInfinity];
            int size = type == DType.F16 ? 2 : 4;
            byte[] kb = new byte[Math.Max(1, d * nKv * size)], vb = new byte[Math.Max(1, d * nKv * size)];
            Quantize.Row(type, kf, kb.AsSpan(0, d * nKv * size));
            Quantize.Row(type, vf, vb.AsSpan(0, d * nKv * size));
            float[] r = new float[Math.Max(1, d)], v = new float[Math.Max(1, d)];
            fixed (float* qp = q, rp = r, vp = v, mp = mask)
            fixed (byte* kp = kb, vbp = vb)
            {
                var kv = new FlashAttnKernel.KvHead((nint)kp, d * size, type, (nint)vbp, d * size, type);
                foreach (float softcap in new[] { 0f, 2f })
                {
                    FlashAttnKernel.Reference(qp, d, kv, nKv, d, mp, 0.3f, softcap, rp);
                    FlashAttnKernel.Vector256(qp, d, kv, nKv, d, mp, 0.3f, softcap, vp);
                    for (int i = 0; i < d; i++)
                    {
                        Assert.That(v[i], Is.EqualTo(r[i]).Within(2e-6f + 2e-6f * Math.Abs(r[i])), $"{type} d={d} softcap={softcap} i={i}");
                    }
                }
            }
        }
    }
}
