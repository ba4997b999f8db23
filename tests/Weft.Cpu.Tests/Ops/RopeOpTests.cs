using Weft.Core;
using Weft.Cpu.Ops;

namespace Weft.Cpu.Tests.Ops;

public class RopeOpTests
{
    // The rope formula in double: θ_k = p · base^(-2k/n_dims) / ff_k, YaRN blend as described by the YaRN paper and ggml.
    private static double[] Expected(float[] x, int[] pos, int headDim, int nHead, int nTok, int nDims, int mode, float fb, float fs,
        float[]? ff, float ext, float attn, int nCtxOrig, float betaFast, float betaSlow)
    {
        double CorrDim(double nRot) => nDims * Math.Log(nCtxOrig / (nRot * 2 * Math.PI)) / (2 * Math.Log(fb));
        double low = Math.Max(0, Math.Floor(CorrDim(betaFast))), high = Math.Min(nDims - 1, Math.Ceiling(CorrDim(betaSlow)));
        var e = new double[x.Length];
        for (int t = 0; t < nTok; t++)
        for (int h = 0; h < nHead; h++)
        {
            int row = (t * nHead + h) * headDim;
            for (int i = 0; i < headDim; i++)
            {
                e[row + i] = x[row + i];
            }
            for (int k = 0; k < nDims / 2; k++)
            {
                double extrap = pos[t] * Math.Pow(fb, -2.0 * k / nDims) / (ff is null ? 1 : ff[k]);
                double theta = fs * extrap, m = attn;
                if (ext != 0)
                {
                    double ramp = (1 - Math.Min(1, Math.Max(0, (k - low) / Math.Max(0.001, high - low)))) * ext;
                    theta = theta * (1 - ramp) + extrap * ramp;
                    m *= 1 + 0.1 * Math.Log(1 / fs);
                }
                int a = mode == RopeMode.NeoX ? k : 2 * k, b = mode == RopeMode.NeoX ? k + nDims / 2 : 2 * k + 1;
                double x0 = x[row + a], x1 = x[row + b];
                e[row + a] = (x0 * Math.Cos(theta) - x1 * Math.Sin(theta)) * m;
                e[row + b] = (x0 * Math.Sin(theta) + x1 * Math.Cos(theta)) * m;
            }
        }
        return e;
    }

    [TestCase(64, 4, 5, 64, RopeMode.Normal, 10000f, 1f, false, 0f)]
    [TestCase(64, 4, 5, 64, RopeMode.NeoX, 10000f, 1f, false, 0f)]
    [TestCase(34, 3, 4, 18, RopeMode.Normal, 500000f, 0.5f, true, 0f)]
    [TestCase(34, 3, 4, 18, RopeMode.NeoX, 10000f, 1f, true, 0f)]
    [TestCase(128, 2, 3, 128, RopeMode.NeoX, 10000f, 0.25f, false, 1f)]
    [TestCase(48, 2, 3, 40, RopeMode.Normal, 10000f, 0.25f, true, 0.5f)]
    public void MatchesFormula(int headDim, int nHead, int nTok, int nDims, int mode, float fb, float fs, bool withFactors, float ext)
    {
        float[] x = OpHost.Random(headDim * nHead * nTok, 51, 2f);
        int[] pos = Enumerable.Range(0, nTok).Select(i => i * 7 + 3).ToArray();
        float[]? ff = withFactors ? Enumerable.Range(0, nDims / 2).Select(i => 1f + 0.25f * (i % 5)).ToArray() : null;
        const float attn = 0.9f;
        float[] got = OpHost.RunThreads(new RopeOp(), h =>
        {
            Tensor a = h.F32(x, headDim, nHead, nTok);
            Tensor p = h.I32(pos, nTok);
            Tensor? f = ff is null ? null : h.F32(ff, ff.Length);
            return new GraphBuilder().Rope(a, p, nDims, mode, 4096, fb, fs, ext, attn, 32f, 1f, f);
        });
        OpHost.AssertClose(Expected(x, pos, headDim, nHead, nTok, nDims, mode, fb, fs, ff, ext, attn, 4096, 32f, 1f), got, 2e-5, "rope");
    }
}
