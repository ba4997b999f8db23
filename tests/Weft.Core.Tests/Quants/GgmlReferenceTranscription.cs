namespace Weft.Core.Tests.Quants;

/// <summary>
/// Test-only, deliberately naive transcription of ggml's published reference quantizers (ggml-quants.c
/// <c>quantize_row_*_ref</c>), written block by block into plain arrays with .NET's own <c>(Half)</c> conversion,
/// so the engine code (span slicing, bit-level f16) is checked against an independent spelling of the formulas.
/// </summary>
internal static class GgmlReferenceTranscription
{
    private static byte[] H(float v)
    {
        ushort bits = BitConverter.HalfToUInt16Bits((Half)v);
        return [(byte)bits, (byte)(bits >> 8)];
    }

    private static float F(byte lo, byte hi) => (float)BitConverter.UInt16BitsToHalf((ushort)(lo | (hi << 8)));

    // ggml nearest_int: add 1.5*2^23 and read the low mantissa bits (ties to even).
    private static int NearestInt(float f) => (int)MathF.Round(f, MidpointRounding.ToEven);

    public static byte[] Q4_0(float[] x)
    {
        var output = new List<byte>();
        for (int b = 0; b < x.Length / 32; b++)
        {
            float[] v = x[(b * 32)..(b * 32 + 32)];
            float amax = 0, max = 0;
            foreach (float t in v)
            {
                if (Math.Abs(t) > amax) { amax = Math.Abs(t); max = t; }
            }
            float d = max / -8f;
            float id = d == 0 ? 0f : 1f / d;
            output.AddRange(H(d));
            for (int j = 0; j < 16; j++)
            {
                int lo = Math.Min(15, (int)(v[j] * id + 8.5f));
                int hi = Math.Min(15, (int)(v[j + 16] * id + 8.5f));
                output.Add((byte)(lo + 16 * hi));
            }
        }
        return output.ToArray();
    }

    public static byte[] Q4_1(float[] x)
    {
        var output = new List<byte>();
        for (int b = 0; b < x.Length / 32; b++)
        {
            float[] v = x[(b * 32)..(b * 32 + 32)];
            float min = v.Min(), max = v.Max();
            float d = (max - min) / 15f;
            float id = d == 0 ? 0f : 1f / d;
            output.AddRange(H(d));
            output.AddRange(H(min));
            for (int j = 0; j < 16; j++)
            {
                int lo = Math.Min(15, (int)((v[j] - min) * id + 0.5f));
                int hi = Math.Min(15, (int)((v[j + 16] - min) * id + 0.5f));
                output.Add((byte)(lo + 16 * hi));
            }
        }
        return output.ToArray();
    }

    public static byte[] Q5_0(float[] x)
    {
        var output = new List<byte>();
        for (int b = 0; b < x.Length / 32; b++)
        {
            float[] v = x[(b * 32)..(b * 32 + 32)];
            float amax = 0, max = 0;
            foreach (float t in v)
            {
                if (Math.Abs(t) > amax) { amax = Math.Abs(t); max = t; }
            }
            float d = max / -16f;
            float id = d == 0 ? 0f : 1f / d;
            int[] q = new int[32];
            for (int j = 0; j < 32; j++)
            {
                q[j] = Math.Min(31, (int)(v[j] * id + 16.5f));
            }
            output.AddRange(H(d));
            long highBits = 0;
            for (int j = 0; j < 32; j++)
            {
                if (q[j] >= 16) { highBits += 1L << j; }
            }
            for (int k = 0; k < 4; k++) { output.Add((byte)(highBits >> (8 * k))); }
            for (int j = 0; j < 16; j++) { output.Add((byte)(q[j] % 16 + 16 * (q[j + 16] % 16))); }
        }
        return output.ToArray();
    }

    public static byte[] Q5_1(float[] x)
    {
        var output = new List<byte>();
        for (int b = 0; b < x.Length / 32; b++)
        {
            float[] v = x[(b * 32)..(b * 32 + 32)];
            float min = v.Min(), max = v.Max();
            float d = (max - min) / 31f;
            float id = d == 0 ? 0f : 1f / d;
            int[] q = new int[32];
            for (int j = 0; j < 32; j++)
            {
                q[j] = (int)((v[j] - min) * id + 0.5f);
            }
            output.AddRange(H(d));
            output.AddRange(H(min));
            long highBits = 0;
            for (int j = 0; j < 32; j++)
            {
                if ((q[j] & 16) != 0) { highBits += 1L << j; }
            }
            for (int k = 0; k < 4; k++) { output.Add((byte)(highBits >> (8 * k))); }
            for (int j = 0; j < 16; j++) { output.Add((byte)((q[j] & 15) + 16 * (q[j + 16] & 15))); }
        }
        return output.ToArray();
    }

    public static byte[] Q8_0(float[] x)
    {
        var output = new List<byte>();
        for (int b = 0; b < x.Length / 32; b++)
        {
            float[] v = x[(b * 32)..(b * 32 + 32)];
            float amax = v.Select(Math.Abs).Max();
            float d = amax / 127f;
            float id = d == 0 ? 0f : 1f / d;
            output.AddRange(H(d));
            foreach (float t in v)
            {
                output.Add(unchecked((byte)(sbyte)MathF.Round(t * id, MidpointRounding.AwayFromZero)));
            }
        }
        return output.ToArray();
    }

    /// <summary>quantize_row_q6_K_ref with make_qx_quants(16, 32, x, L, rmse_type 1).</summary>
    public static byte[] Q6_K(float[] x)
    {
        var output = new List<byte>();
        for (int b = 0; b < x.Length / 256; b++)
        {
            float[] v = x[(b * 256)..(b * 256 + 256)];
            int[] L = new int[256];
            float[] scales = new float[16];
            float maxScale = 0, maxAbsScale = 0;
            for (int s = 0; s < 16; s++)
            {
                float[] sub = v[(16 * s)..(16 * s + 16)];
                int[] ls = new int[16];
                scales[s] = MakeQx(sub, 32, ls);
                Array.Copy(ls, 0, L, 16 * s, 16);
                if (Math.Abs(scales[s]) > maxAbsScale) { maxAbsScale = Math.Abs(scales[s]); maxScale = scales[s]; }
            }
            if (maxAbsScale < 1e-15f)
            {
                output.AddRange(new byte[210]);
                continue;
            }
            float iscale = -128f / maxScale;
            byte[] dh = H(1 / iscale);
            float dAll = F(dh[0], dh[1]);
            sbyte[] sc = new sbyte[16];
            for (int s = 0; s < 16; s++) { sc[s] = (sbyte)Math.Min(127, NearestInt(iscale * scales[s])); }
            for (int s = 0; s < 16; s++)
            {
                float d = dAll * sc[s];
                if (d == 0) { continue; }
                for (int k = 0; k < 16; k++)
                {
                    L[16 * s + k] = Math.Clamp(NearestInt(v[16 * s + k] / d), -32, 31) + 32;
                }
            }
            byte[] ql = new byte[128], qh = new byte[64];
            for (int half = 0; half < 2; half++)
            {
                for (int l = 0; l < 32; l++)
                {
                    int a = L[128 * half + l], c = L[128 * half + l + 32], e = L[128 * half + l + 64], g = L[128 * half + l + 96];
                    ql[64 * half + l] = (byte)((a & 15) | ((e & 15) << 4));
                    ql[64 * half + l + 32] = (byte)((c & 15) | ((g & 15) << 4));
                    qh[32 * half + l] = (byte)((a >> 4) | ((c >> 4) << 2) | ((e >> 4) << 4) | ((g >> 4) << 6));
                }
            }
            output.AddRange(ql);
            output.AddRange(qh);
            output.AddRange(sc.Select(t => unchecked((byte)t)));
            output.AddRange(dh);
        }
        return output.ToArray();
    }

    // make_qx_quants(n, nmax, x, L, rmse_type = 1, qw = NULL): weights x^2, initial iscale -nmax/max, then 18 more tries.
    private static float MakeQx(float[] x, int nmax, int[] L)
    {
        float amax = 0, max = 0;
        foreach (float t in x)
        {
            if (Math.Abs(t) > amax) { amax = Math.Abs(t); max = t; }
        }
        if (amax < 1e-15f)
        {
            Array.Clear(L);
            return 0;
        }
        float Try(float iscale, int[]? levels, out float suml2)
        {
            float sumlx = 0;
            suml2 = 0;
            for (int i = 0; i < x.Length; i++)
            {
                int l = Math.Clamp(NearestInt(iscale * x[i]), -nmax, nmax - 1);
                if (levels is not null) { levels[i] = l + nmax; }
                float w = x[i] * x[i];
                sumlx += w * x[i] * l;
                suml2 += w * l * l;
            }
            return sumlx;
        }
        float sx = Try(-nmax / max, L, out float s2);
        float scale = s2 != 0 ? sx / s2 : 0f;
        float best = scale * sx;
        for (int step = -9; step <= 9; step++)
        {
            if (step == 0) { continue; }
            float iscale = -(nmax + 0.1f * step) / max;
            float lx = Try(iscale, null, out float l2);
            if (l2 > 0 && lx * lx > best * l2)
            {
                Try(iscale, L, out _);
                scale = lx / l2;
                best = scale * lx;
            }
        }
        return scale;
    }

    /// <summary>quantize_row_q4_K_ref: make_qkx2_quants(32, 15, ..., -1, 0.1, 20) per sub-block, 6-bit scales/mins.</summary>
    public static byte[] Q4_K(float[] x) => K4or5(x, 15, -1f, 0.1f, 20);

    /// <summary>quantize_row_q5_K_ref: make_qkx2_quants(32, 31, ..., -0.5, 0.1, 15), fifth bits in qh.</summary>
    public static byte[] Q5_K(float[] x) => K4or5(x, 31, -0.5f, 0.1f, 15);

    /// <summary>quantize_row_q8_K_ref: iscale = -127/max, q = min(127, nearest_int(iscale*x)), d = 1/iscale, sums of 16.</summary>
    public static byte[] Q8_K(float[] x)
    {
        var output = new List<byte>();
        for (int b = 0; b < x.Length / 256; b++)
        {
            float[] v = x[(b * 256)..(b * 256 + 256)];
            float amax = 0, max = 0;
            foreach (float t in v)
            {
                if (Math.Abs(t) > amax) { amax = Math.Abs(t); max = t; }
            }
            if (amax == 0)
            {
                output.AddRange(new byte[292]);
                continue;
            }
            float iscale = -127f / max;
            sbyte[] q = v.Select(t => (sbyte)Math.Min(127, NearestInt(iscale * t))).ToArray();
            output.AddRange(BitConverter.GetBytes(1 / iscale));
            output.AddRange(q.Select(t => unchecked((byte)t)));
            for (int g = 0; g < 16; g++)
            {
                output.AddRange(BitConverter.GetBytes((short)q.Skip(16 * g).Take(16).Sum(t => t)));
            }
        }
        return output.ToArray();
    }

    private static byte[] K4or5(float[] x, int nmax, float rmin, float rdelta, int nstep)
    {
        var output = new List<byte>();
        for (int b = 0; b < x.Length / 256; b++)
        {
            float[] v = x[(b * 256)..(b * 256 + 256)];
            int[] L = new int[256];
            float[] scales = new float[8], mins = new float[8];
            float maxScale = 0, maxMin = 0;
            for (int s = 0; s < 8; s++)
            {
                float[] sub = v[(32 * s)..(32 * s + 32)];
                float sumX2 = 0;
                foreach (float t in sub) { sumX2 += t * t; }
                float avX = MathF.Sqrt(sumX2 / 32);
                float[] w = sub.Select(t => avX + Math.Abs(t)).ToArray();
                int[] ls = new int[32];
                scales[s] = MakeQkx2(sub, w, nmax, rmin, rdelta, nstep, ls, out mins[s]);
                Array.Copy(ls, 0, L, 32 * s, 32);
                if (scales[s] > maxScale) { maxScale = scales[s]; }
                if (mins[s] > maxMin) { maxMin = mins[s]; }
            }
            float invScale = maxScale > 0 ? 63f / maxScale : 0f;
            float invMin = maxMin > 0 ? 63f / maxMin : 0f;
            int[] qsc = new int[8], qmn = new int[8];
            for (int s = 0; s < 8; s++)
            {
                qsc[s] = Math.Min(63, NearestInt(invScale * scales[s]) & 255);
                qmn[s] = Math.Min(63, NearestInt(invMin * mins[s]) & 255);
            }
            // 12 packed bytes: bytes 0-3 scales 0-3 (+ top 2 bits of scales 4-7), 4-7 mins 0-3 (+ top bits of mins 4-7),
            // 8-11 low nibbles of scale 4-7 | mins 4-7 << 4.
            byte[] packed = new byte[12];
            for (int s = 0; s < 4; s++)
            {
                packed[s] = (byte)(qsc[s] | ((qsc[s + 4] >> 4) << 6));
                packed[s + 4] = (byte)(qmn[s] | ((qmn[s + 4] >> 4) << 6));
                packed[s + 8] = (byte)((qsc[s + 4] & 15) | ((qmn[s + 4] & 15) << 4));
            }
            byte[] dh = H(maxScale / 63f), mh = H(maxMin / 63f);
            float dAll = F(dh[0], dh[1]), mAll = F(mh[0], mh[1]);
            for (int s = 0; s < 8; s++)
            {
                float d = dAll * qsc[s];
                if (d == 0) { continue; }
                float dm = mAll * qmn[s];
                for (int k = 0; k < 32; k++)
                {
                    L[32 * s + k] = Math.Clamp(NearestInt((v[32 * s + k] + dm) / d), 0, nmax);
                }
            }
            output.AddRange(dh);
            output.AddRange(mh);
            output.AddRange(packed);
            if (nmax == 31)
            {
                // Q5_K: bit 2c of qh[l] is the fifth bit of weight 64c + l, bit 2c+1 that of weight 64c + 32 + l.
                byte[] qh = new byte[32];
                for (int c = 0; c < 4; c++)
                {
                    for (int l = 0; l < 32; l++)
                    {
                        if (L[64 * c + l] >= 16) { qh[l] |= (byte)(1 << (2 * c)); }
                        if (L[64 * c + 32 + l] >= 16) { qh[l] |= (byte)(1 << (2 * c + 1)); }
                    }
                }
                output.AddRange(qh);
            }
            for (int c = 0; c < 4; c++)
            {
                for (int l = 0; l < 32; l++) { output.Add((byte)((L[64 * c + l] & 15) | ((L[64 * c + 32 + l] & 15) << 4))); }
            }
        }
        return output.ToArray();
    }

    private static float MakeQkx2(float[] x, float[] w, int nmax, float rmin, float rdelta, int nstep, int[] L, out float theMin)
    {
        int n = x.Length;
        float min = x[0], max = x[0], sumW = w[0], sumX = w[0] * x[0];
        for (int i = 1; i < n; i++)
        {
            min = Math.Min(min, x[i]);
            max = Math.Max(max, x[i]);
            sumW += w[i];
            sumX += w[i] * x[i];
        }
        if (min > 0) { min = 0; }
        if (max == min)
        {
            Array.Clear(L);
            theMin = -min;
            return 0;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++)
        {
            L[i] = Math.Clamp(NearestInt(iscale * (x[i] - min)), 0, nmax);
            float diff = scale * L[i] + min - x[i];
            bestError += w[i] * (diff * diff);
        }
        int[] aux = new int[n];
        for (int step = 0; step <= nstep; step++)
        {
            iscale = (rmin + rdelta * step + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXl = 0;
            for (int i = 0; i < n; i++)
            {
                int l = Math.Clamp(NearestInt(iscale * (x[i] - min)), 0, nmax);
                aux[i] = l;
                sumL += w[i] * l;
                sumL2 += w[i] * l * l;
                sumXl += w[i] * l * x[i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det <= 0) { continue; }
            float thisScale = (sumW * sumXl - sumX * sumL) / det;
            float thisMin = (sumL2 * sumX - sumL * sumXl) / det;
            if (thisMin > 0)
            {
                thisMin = 0;
                thisScale = sumXl / sumL2;
            }
            float err = 0;
            for (int i = 0; i < n; i++)
            {
                float diff = thisScale * aux[i] + thisMin - x[i];
                err += w[i] * (diff * diff);
            }
            if (err < bestError)
            {
                Array.Copy(aux, L, n);
                bestError = err;
                scale = thisScale;
                min = thisMin;
            }
        }
        theMin = -min;
        return scale;
    }
}
