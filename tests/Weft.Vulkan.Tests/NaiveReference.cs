using Weft.Core;
using Weft.Core.Quants;

namespace Weft.Vulkan.Tests;

/// <summary>
/// An independent, deliberately plain evaluator of the suite's graphs: every tensor is a dense double array indexed
/// [i0 + ne0 * (i1 + ne1 * (i2 + ne2 * i3))] (views resolved through byte strides into their root), written from the
/// op definitions in GraphBuilder, not from either backend.
/// </summary>
public static class NaiveReference
{
    public static double[] Evaluate(Tensor output, OpInputs inputs)
    {
        var roots = new Dictionary<Tensor, double[]>();
        foreach (var (t, _, values) in inputs.All)
        {
            roots[t] = values.Select(v => (double)v).ToArray();
        }
        return Eval(output, roots);
    }

    private static double[] Eval(Tensor t, Dictionary<Tensor, double[]> memo)
    {
        if (memo.TryGetValue(t, out double[]? have))
        {
            return have;
        }
        double[] r = t.Op switch
        {
            OpKind.View or OpKind.Reshape or OpKind.Permute or OpKind.Transpose => Gather(t, memo),
            OpKind.Add => Binary(t, memo, (a, b) => a + b),
            OpKind.Mul => Binary(t, memo, (a, b) => a * b),
            OpKind.SwiGlu => Binary(t, memo, (a, b) => a / (1 + Math.Exp(-a)) * b),
            OpKind.Scale => Eval(t.Src[0]!, memo).Select(x => x * t.GetParamF(0)).ToArray(),
            OpKind.Silu => Eval(t.Src[0]!, memo).Select(x => x / (1 + Math.Exp(-x))).ToArray(),
            OpKind.Gelu => Eval(t.Src[0]!, memo).Select(x => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)))).ToArray(),
            OpKind.RmsNorm or OpKind.Norm => Norm(t, memo),
            OpKind.SoftMax => SoftMax(t, memo),
            OpKind.Rope => Rope(t, memo),
            OpKind.GetRows => GetRows(t, memo),
            OpKind.Cpy => Cpy(t, memo),
            OpKind.Cont => (double[])Eval(t.Src[0]!, memo).Clone(),
            OpKind.MatMul => MatMul(t, memo),
            OpKind.SetRows => SetRows(t, memo),
            OpKind.FlashAttn => FlashAttn(t, memo),
            _ => throw new NotSupportedException($"NaiveReference has no {t.Op}."),
        };
        memo[t] = r;
        return r;
    }

    private static int Index(Tensor t, long i0, long i1, long i2, long i3) => (int)(i0 + t.Ne[0] * (i1 + t.Ne[1] * (i2 + t.Ne[2] * i3)));

    // A view reads its root's dense array through byte strides (the root is contiguous).
    private static double[] Gather(Tensor t, Dictionary<Tensor, double[]> memo)
    {
        Tensor root = t.ViewRoot;
        double[] src = Eval(root, memo);
        long baseOff = 0;
        for (Tensor v = t; v.ViewSrc is not null; v = v.ViewSrc)
        {
            baseOff += v.ViewOffset;
        }
        long es = root.Traits.TypeSize;
        var r = new double[t.ElementCount];
        for (long i3 = 0; i3 < t.Ne[3]; i3++)
        for (long i2 = 0; i2 < t.Ne[2]; i2++)
        for (long i1 = 0; i1 < t.Ne[1]; i1++)
        for (long i0 = 0; i0 < t.Ne[0]; i0++)
        {
            long b = baseOff + i0 * t.Nb[0] + i1 * t.Nb[1] + i2 * t.Nb[2] + i3 * t.Nb[3];
            r[Index(t, i0, i1, i2, i3)] = src[b / es];
        }
        return r;
    }

    private static double[] Binary(Tensor t, Dictionary<Tensor, double[]> memo, Func<double, double, double> f)
    {
        Tensor a = t.Src[0]!, b = t.Src[1]!;
        double[] x = Eval(a, memo), y = Eval(b, memo);
        var r = new double[t.ElementCount];
        for (long i3 = 0; i3 < t.Ne[3]; i3++)
        for (long i2 = 0; i2 < t.Ne[2]; i2++)
        for (long i1 = 0; i1 < t.Ne[1]; i1++)
        for (long i0 = 0; i0 < t.Ne[0]; i0++)
        {
            r[Index(t, i0, i1, i2, i3)] = f(x[Index(a, i0, i1, i2, i3)], y[Index(b, i0 % b.Ne[0], i1 % b.Ne[1], i2 % b.Ne[2], i3 % b.Ne[3])]);
        }
        return r;
    }

    private static double[] Norm(Tensor t, Dictionary<Tensor, double[]> memo)
    {
        double[] x = Eval(t.Src[0]!, memo);
        var r = new double[x.Length];
        int n = (int)t.Ne[0];
        double eps = t.GetParamF(0);
        for (int row = 0; row < x.Length / n; row++)
        {
            var s = x.AsSpan(row * n, n);
            double mean = t.Op == OpKind.Norm ? s.ToArray().Average() : 0;
            double q = 0;
            foreach (double v in s)
            {
                q += (v - mean) * (v - mean);
            }
            double scale = 1 / Math.Sqrt(q / n + eps);
            for (int i = 0; i < n; i++)
            {
                r[row * n + i] = (s[i] - mean) * scale;
            }
        }
        return r;
    }

    private static double[] SoftMax(Tensor t, Dictionary<Tensor, double[]> memo)
    {
        double[] x = Eval(t.Src[0]!, memo);
        Tensor? m = t.Src[1];
        double[]? mask = m is null ? null : Eval(m, memo);
        double scale = t.GetParamF(0);
        bool causal = t.Params[1] != 0;
        int nPast = t.Params[2];
        var r = new double[x.Length];
        long n = t.Ne[0];
        for (long i3 = 0; i3 < t.Ne[3]; i3++)
        for (long i2 = 0; i2 < t.Ne[2]; i2++)
        for (long i1 = 0; i1 < t.Ne[1]; i1++)
        {
            long valid = causal ? Math.Clamp(nPast + i1 + 1, 0, n) : n;
            var v = new double[valid];
            for (long i = 0; i < valid; i++)
            {
                v[i] = x[Index(t, i, i1, i2, i3)] * scale + (mask is null ? 0 : mask[Index(m!, i, i1, i2 % m!.Ne[2], i3 % m.Ne[3])]);
            }
            double max = v.Length == 0 ? 0 : v.Max();
            double sum = v.Sum(e => Math.Exp(e - max));
            for (long i = 0; i < n; i++)
            {
                r[Index(t, i, i1, i2, i3)] = i < valid ? Math.Exp(v[i] - max) / sum : 0;
            }
        }
        return r;
    }

    private static double[] Rope(Tensor t, Dictionary<Tensor, double[]> memo)
    {
        double[] x = Eval(t.Src[0]!, memo), pos = Eval(t.Src[1]!, memo);
        double[]? ff = t.Src[2] is null ? null : Eval(t.Src[2]!, memo);
        int nDims = t.Params[1], mode = t.Params[2], nCtxOrig = t.Params[4];
        double freqBase = t.GetParamF(5), freqScale = t.GetParamF(6), ext = t.GetParamF(7), attn = t.GetParamF(8);
        double betaFast = t.GetParamF(9), betaSlow = t.GetParamF(10);
        double CorrDim(double nRot) => nDims * Math.Log(nCtxOrig / (nRot * 2 * Math.PI)) / (2 * Math.Log(freqBase));
        double low = Math.Max(0, Math.Floor(CorrDim(betaFast))), high = Math.Min(nDims - 1, Math.Ceiling(CorrDim(betaSlow)));
        var r = (double[])x.Clone();
        int half = nDims / 2;
        for (long i3 = 0; i3 < t.Ne[3]; i3++)
        for (long i2 = 0; i2 < t.Ne[2]; i2++)
        for (long i1 = 0; i1 < t.Ne[1]; i1++)
        for (int k = 0; k < half; k++)
        {
            double theta = pos[i2] * Math.Pow(freqBase, -2.0 * k / nDims);
            double extrap = theta / (ff is null ? 1 : ff[k]), interp = freqScale * extrap, th = interp, ms = attn;
            if (ext != 0)
            {
                double ramp = (1 - Math.Min(1, Math.Max(0, (k - low) / Math.Max(0.001, high - low)))) * ext;
                th = interp * (1 - ramp) + extrap * ramp;
                ms *= 1 + 0.1 * Math.Log(1 / freqScale);
            }
            int a = (mode & RopeMode.NeoX) != 0 ? k : 2 * k, b = (mode & RopeMode.NeoX) != 0 ? k + half : 2 * k + 1;
            double x0 = x[Index(t, a, i1, i2, i3)], x1 = x[Index(t, b, i1, i2, i3)];
            r[Index(t, a, i1, i2, i3)] = (x0 * Math.Cos(th) - x1 * Math.Sin(th)) * ms;
            r[Index(t, b, i1, i2, i3)] = (x0 * Math.Sin(th) + x1 * Math.Cos(th)) * ms;
        }
        return r;
    }

    private static double[] GetRows(Tensor t, Dictionary<Tensor, double[]> memo)
    {
        Tensor a = t.Src[0]!, ids = t.Src[1]!;
        double[] x = Eval(a, memo), id = Eval(ids, memo);
        var r = new double[t.ElementCount];
        for (long i3 = 0; i3 < t.Ne[3]; i3++)
        for (long i2 = 0; i2 < t.Ne[2]; i2++)
        for (long i1 = 0; i1 < t.Ne[1]; i1++)
        {
            long row = (long)id[Index(ids, i1, i2, i3, 0)];
            for (long i0 = 0; i0 < t.Ne[0]; i0++)
            {
                r[Index(t, i0, i1, i2, i3)] = x[Index(a, i0, row, i2 % a.Ne[2], i3 % a.Ne[3])];
            }
        }
        return r;
    }

    // Cpy writes src (in row-major order) into the destination view, converted to the view's dtype; the node is that view.
    private static double[] Cpy(Tensor t, Dictionary<Tensor, double[]> memo)
    {
        double[] x = Eval(t.Src[0]!, memo);
        if (t.Type == DType.F16)
        {
            x = x.Select(v => (double)(float)(Half)(float)v).ToArray();
        }
        return x;
    }

    private static double[] SetRows(Tensor t, Dictionary<Tensor, double[]> memo)
    {
        Tensor values = t.Src[0]!;
        double[] r = (double[])Eval(t.Src[1]!, memo).Clone(), v = Eval(values, memo), ids = Eval(t.Src[2]!, memo);
        long n = values.Ne[0];
        for (long row = 0; row < values.RowCount; row++)
        {
            for (long i = 0; i < n; i++)
            {
                double x = v[row * n + i];
                r[(long)ids[row] * n + i] = t.Type == DType.F16 ? (float)(Half)(float)x : x;
            }
        }
        return r;
    }

    private static double[] FlashAttn(Tensor t, Dictionary<Tensor, double[]> memo)
    {
        Tensor q = t.Src[0]!, k = t.Src[1]!, v = t.Src[2]!;
        double[] qv = Eval(q, memo), kv = Eval(k, memo), vv = Eval(v, memo);
        long nKv = k.Ne[1], nQ = q.Ne[1], nHead = q.Ne[2], nPast = t.Params[2];
        if (t.Src[4] is Tensor len)
        {
            nKv = (long)Eval(len, memo)[0];
            nPast = nKv - nQ;
        }
        bool causal = t.Params[1] != 0;
        double scale = t.GetParamF(0), softcap = t.GetParamF(3);
        Tensor? mask = t.Src[3];
        double[]? mv = mask is null ? null : Eval(mask, memo);
        var r = new double[t.ElementCount];
        for (long i3 = 0; i3 < q.Ne[3]; i3++)
        for (long iq = 0; iq < nQ; iq++)
        for (long h = 0; h < nHead; h++)
        {
            long hk = h / (nHead / k.Ne[2]), k3 = i3 % k.Ne[3];
            long visible = causal ? Math.Clamp(nPast + iq + 1, 0, nKv) : nKv;
            var s = new double[visible];
            for (long j = 0; j < visible; j++)
            {
                double dot = 0;
                for (long d = 0; d < q.Ne[0]; d++)
                {
                    dot += qv[Index(q, d, iq, h, i3)] * kv[Index(k, d, j, hk, k3)];
                }
                s[j] = softcap == 0 ? dot * scale : softcap * Math.Tanh(dot * scale / softcap);
                if (mask is not null)
                {
                    s[j] += mv![Index(mask, j, iq, h % mask.Ne[2], i3 % mask.Ne[3])];
                }
            }
            double max = s.Length == 0 ? 0 : s.Max(), sum = s.Sum(x => Math.Exp(x - max));
            if (double.IsNegativeInfinity(max))
            {
                continue; // every key masked: zeros
            }
            for (long d = 0; d < v.Ne[0]; d++)
            {
                double acc = 0;
                for (long j = 0; j < visible; j++)
                {
                    acc += Math.Exp(s[j] - max) / sum * vv[Index(v, d, j, hk, k3)];
                }
                r[Index(t, d, h, iq, i3)] = acc;
            }
        }
        return r;
    }

    private static double[] MatMul(Tensor t, Dictionary<Tensor, double[]> memo)
    {
        Tensor w = t.Src[0]!, x = t.Src[1]!;
        double[] a = Eval(w, memo), b = Eval(x, memo);
        var r = new double[t.ElementCount];
        long k = w.Ne[0];
        for (long i3 = 0; i3 < t.Ne[3]; i3++)
        for (long i2 = 0; i2 < t.Ne[2]; i2++)
        for (long m = 0; m < t.Ne[1]; m++)
        for (long n = 0; n < t.Ne[0]; n++)
        {
            double s = 0;
            for (long i = 0; i < k; i++)
            {
                s += a[Index(w, i, n, i2 / (x.Ne[2] / w.Ne[2]), i3 / (x.Ne[3] / w.Ne[3]))] * b[Index(x, i, m, i2, i3)];
            }
            r[Index(t, n, m, i2, i3)] = s;
        }
        return r;
    }
}
