
namespace Weft.Core.Quants;

/// <summary>
/// The scalar helpers of ggml's K-quant reference code (<c>nearest_int</c>, <c>make_qx_quants</c>,
/// <c>make_qkx2_quants</c>, <c>get_scale_min_k4</c>). Every expression keeps ggml's float operation order:
/// the byte output must match llama.cpp's, and a reordered sum changes the last bit of a scale.
/// </summary>
internal static class QuantMath
{
    /// <summary>Blocks whose largest magnitude is below this count as all zero (ggml's GROUP_MAX_EPS).</summary>
    public const float GroupMaxEps = 1e-15f;

    /// <summary>Round to nearest, ties to even, through the 1.5*2^23 trick; valid for |x| &lt;= 4194303.</summary>
    public static int NearestInt(float x)
    {
        float v = x + 12582912f;
        int i = BitConverter.SingleToInt32Bits(v);
        return (i & 0x007F_FFFF) - 0x0040_0000;
    }

    /// <summary>C's <c>MAX(a, b)</c> macro: <c>a &gt; b ? a : b</c> (NaN handling included).</summary>
    public static float Max(float a, float b) => a > b ? a : b;

    /// <summary>
    /// Symmetric quantization of <paramref name="x"/> to <c>[-nmax, nmax-1]</c> with a weighted least-squares
    /// scale search (ggml <c>make_qx_quants</c> with <c>rmse_type = 1</c> and no importance weights: w = x*x).
    /// Writes L[i] = level + nmax and returns the scale.
    /// </summary>
    public static float MakeQxQuantsRmse1(int n, int nmax, ReadOnlySpan<float> x, Span<sbyte> l)
    {
        float max = 0;
        float amax = 0;
        for (int i = 0; i < n; ++i)
        {
            float ax = MathF.Abs(x[i]);
            if (ax > amax)
            {
                amax = ax;
                max = x[i];
            }
        }
        if (amax < GroupMaxEps)
        {
            l[..n].Clear();
            return 0f;
        }
        float iscale = -nmax / max;
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; ++i)
        {
            int q = NearestInt(iscale * x[i]);
            q = Math.Max(-nmax, Math.Min(nmax - 1, q));
            l[i] = (sbyte)(q + nmax);
            float w = x[i] * x[i];
            sumlx += w * x[i] * q;
            suml2 += w * q * q;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
        float best = scale * sumlx;
        for (int step = -9; step <= 9; ++step)
        {
            if (step == 0)
            {
                continue;
            }
            iscale = -(nmax + 0.1f * step) / max;
            sumlx = 0;
            suml2 = 0;
            for (int i = 0; i < n; ++i)
            {
                int q = NearestInt(iscale * x[i]);
                q = Math.Max(-nmax, Math.Min(nmax - 1, q));
                float w = x[i] * x[i];
                sumlx += w * x[i] * q;
                suml2 += w * q * q;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2)
            {
                for (int i = 0; i < n; ++i)
                {
                    int q = NearestInt(iscale * x[i]);
                    l[i] = (sbyte)(nmax + Math.Max(-nmax, Math.Min(nmax - 1, q)));
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    /// <summary>
    /// Asymmetric quantization to <c>[0, nmax]</c> with scale and min chosen by a weighted least-squares search
    /// over <paramref name="nstep"/>+1 candidate inverse scales (ggml <c>make_qkx2_quants</c>, squared error).
    /// Returns the scale; <paramref name="theMin"/> receives minus the (non-positive) offset.
    /// </summary>
    public static unsafe float MakeQkx2Quants(int n, int nmax, ReadOnlySpan<float> xs, ReadOnlySpan<float> ws,
        Span<byte> ls, out float theMin, Span<byte> lauxs, float rmin, float rdelta, int nstep)
    {
        if (xs.Length < n || ws.Length < n || ls.Length < n || lauxs.Length < n)
        {
            throw new ArgumentException($"make_qkx2_quants: spans shorter than n = {n}.");
        }
        // Pointers: this is the hot loop of Q4_K/Q5_K quantization (22 passes over each sub-block) and the JIT
        // cannot drop the span bounds checks across the four spans. The arithmetic order is unchanged.
        fixed (float* x = xs, weights = ws)
        fixed (byte* l = ls, laux = lauxs)
        {
            float min = x[0];
            float max = x[0];
            float sumW = weights[0];
            float sumX = sumW * x[0];
            for (int i = 1; i < n; ++i)
            {
                if (x[i] < min)
                {
                    min = x[i];
                }
                if (x[i] > max)
                {
                    max = x[i];
                }
                float w = weights[i];
                sumW += w;
                sumX += w * x[i];
            }
            if (min > 0)
            {
                min = 0;
            }
            if (max == min)
            {
                new Span<byte>(l, n).Clear();
                theMin = -min;
                return 0f;
            }
            float iscale = nmax / (max - min);
            float scale = 1 / iscale;
            float bestError = 0;
            for (int i = 0; i < n; ++i)
            {
                int q = NearestInt(iscale * (x[i] - min));
                l[i] = (byte)Math.Max(0, Math.Min(nmax, q));
                float diff = scale * l[i] + min - x[i];
                diff = diff * diff;
                bestError += weights[i] * diff;
            }
            if (nstep < 1)
            {
                theMin = -min;
                return scale;
            }
            for (int step = 0; step <= nstep; ++step)
            {
                iscale = (rmin + rdelta * step + nmax) / (max - min);
                float sumL = 0, sumL2 = 0, sumXl = 0;
                for (int i = 0; i < n; ++i)
                {
                    int q = NearestInt(iscale * (x[i] - min));
                    q = Math.Max(0, Math.Min(nmax, q));
                    laux[i] = (byte)q;
                    float w = weights[i];
                    sumL += w * q;
                    sumL2 += w * q * q;
                    sumXl += w * q * x[i];
                }
                float det = sumW * sumL2 - sumL * sumL;
                if (det > 0)
                {
                    float thisScale = (sumW * sumXl - sumX * sumL) / det;
                    float thisMin = (sumL2 * sumX - sumL * sumXl) / det;
                    if (thisMin > 0)
                    {
                        thisMin = 0;
                        thisScale = sumXl / sumL2;
                    }
                    float curError = 0;
                    for (int i = 0; i < n; ++i)
                    {
                        float diff = thisScale * laux[i] + thisMin - x[i];
                        diff = diff * diff;
                        curError += weights[i] * diff;
                    }
                    if (curError < bestError)
                    {
                        Buffer.MemoryCopy(laux, l, n, n);
                        bestError = curError;
                        scale = thisScale;
                        min = thisMin;
                    }
                }
            }
            theMin = -min;
            return scale;
        }
    }

    /// <summary>Unpacks the 6-bit scale and min of sub-block <paramref name="j"/> from Q4_K/Q5_K's 12 packed bytes.</summary>
    public static void GetScaleMinK4(int j, ReadOnlySpan<byte> q, out byte d, out byte m)
    {
        if (j < 4)
        {
            d = (byte)(q[j] & 63);
            m = (byte)(q[j + 4] & 63);
        }
        else
        {
            d = (byte)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
            m = (byte)((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
        }
    }

    /// <summary>Packs sub-block scale <paramref name="ls"/> and min <paramref name="lm"/> (6 bits each) the way Q4_K/Q5_K store them.</summary>
    public static void PutScaleMinK4(int j, Span<byte> scales, byte ls, byte lm)
    {
        if (j < 4)
        {
            scales[j] = ls;
            scales[j + 4] = lm;
        }
        else
        {
            scales[j + 4] = (byte)((ls & 0xF) | ((lm & 0xF) << 4));
            scales[j - 4] |= (byte)((ls >> 4) << 6);
            scales[j - 0] |= (byte)((lm >> 4) << 6);
        }
    }
}
