using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Weft.Core;

namespace Weft.Cpu.Kernels;

/// <summary>
/// Rotary position embedding with ggml's <c>rope_ext</c> semantics (normal and NeoX modes, frequency factors, YaRN).
/// </summary>
/// <remarks>
/// <para>For pair k (0 ≤ k &lt; n_dims/2) of a token at position p: θ_extrap = p·base^(-2k/n_dims) / ff[k] (accumulated
/// multiplicatively in F32 as ggml does, so results match it bit for bit before the rotation), θ_interp =
/// freq_scale·θ_extrap. Without YaRN (ext_factor = 0) θ = θ_interp; with it, θ blends the two by
/// ramp(k)·ext_factor, where ramp is 1 below the correction dim low and 0 above high, and the magnitude gains
/// 1 + 0.1·ln(1/freq_scale). cos/sin are multiplied by attn_factor.</para>
/// <para>Normal mode rotates (x[2k], x[2k+1]); NeoX rotates (x[k], x[k + n_dims/2]). Elements from n_dims on are
/// copied unchanged. The Vector256 path differs from the reference only by FMA rounding (≤ 2 ulp).</para>
/// </remarks>
public static class RopeKernel
{
    /// <summary>ggml's YaRN correction dimension for <paramref name="nRot"/> rotations.</summary>
    public static float CorrDim(int nDims, int nCtxOrig, float nRot, float freqBase) =>
        nDims * MathF.Log(nCtxOrig / (nRot * 2f * MathF.PI)) / (2f * MathF.Log(freqBase));

    /// <summary>The [low, high] range of pair indices over which YaRN blends interpolation and extrapolation.</summary>
    public static (float Low, float High) CorrDims(int nDims, int nCtxOrig, float freqBase, float betaFast, float betaSlow)
    {
        float start = MathF.Floor(CorrDim(nDims, nCtxOrig, betaFast, freqBase));
        float end = MathF.Ceiling(CorrDim(nDims, nCtxOrig, betaSlow, freqBase));
        return (MathF.Max(0f, start), MathF.Min(nDims - 1, end));
    }

    /// <summary>
    /// Fills <paramref name="cos"/> and <paramref name="sin"/> (n_dims/2 entries each) for one position.
    /// </summary>
    /// <param name="position">The token position p.</param>
    /// <param name="nDims">Rotated dimensions (even).</param>
    /// <param name="freqBase">RoPE base.</param>
    /// <param name="freqScale">Position interpolation factor.</param>
    /// <param name="freqFactors">Per-pair divisors of θ, or empty.</param>
    /// <param name="corrLow">YaRN low correction dim (see <see cref="CorrDims"/>).</param>
    /// <param name="corrHigh">YaRN high correction dim.</param>
    /// <param name="extFactor">YaRN extrapolation mix (0 = off).</param>
    /// <param name="attnFactor">Magnitude scale of cos/sin.</param>
    /// <param name="cos">Output cosines.</param>
    /// <param name="sin">Output sines.</param>
    public static void CacheInit(float position, int nDims, float freqBase, float freqScale, ReadOnlySpan<float> freqFactors,
        float corrLow, float corrHigh, float extFactor, float attnFactor, Span<float> cos, Span<float> sin)
    {
        float thetaScale = MathF.Pow(freqBase, -2f / nDims);
        float theta = position;
        for (int k = 0; k < nDims / 2; k++)
        {
            float ff = freqFactors.IsEmpty ? 1f : freqFactors[k];
            float thetaExtrap = theta / ff;
            float thetaInterp = freqScale * thetaExtrap;
            float th = thetaInterp;
            float mscale = attnFactor;
            if (extFactor != 0f)
            {
                float y = (k - corrLow) / MathF.Max(0.001f, corrHigh - corrLow);
                float ramp = (1f - MathF.Min(1f, MathF.Max(0f, y))) * extFactor;
                th = thetaInterp * (1f - ramp) + thetaExtrap * ramp;
                mscale *= 1f + 0.1f * MathF.Log(1f / freqScale);
            }
            cos[k] = MathF.Cos(th) * mscale;
            sin[k] = MathF.Sin(th) * mscale;
            theta *= thetaScale;
        }
    }

    /// <summary>Rotates one row (one head of one token) with the path chosen at start-up.</summary>
    /// <param name="x">Source row (ne0 elements).</param>
    /// <param name="dst">Destination row (may alias x).</param>
    /// <param name="cos">Cosines from <see cref="CacheInit"/>.</param>
    /// <param name="sin">Sines from <see cref="CacheInit"/>.</param>
    /// <param name="nDims">Rotated dimensions.</param>
    /// <param name="mode"><see cref="RopeMode.Normal"/> or <see cref="RopeMode.NeoX"/>.</param>
    public static void Row(ReadOnlySpan<float> x, Span<float> dst, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, int nDims, int mode)
    {
        if (CpuFeatures.UseAvx2)
        {
            Vector256(x, dst, cos, sin, nDims, mode);
        }
        else
        {
            Reference(x, dst, cos, sin, nDims, mode);
        }
    }

    /// <summary>The scalar spec of <see cref="Row"/>.</summary>
    public static void Reference(ReadOnlySpan<float> x, Span<float> dst, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, int nDims, int mode)
    {
        int half = nDims / 2;
        bool neox = (mode & RopeMode.NeoX) != 0;
        for (int k = 0; k < half; k++)
        {
            int a = neox ? k : 2 * k;
            int b = neox ? k + half : 2 * k + 1;
            float x0 = x[a], x1 = x[b];
            dst[a] = x0 * cos[k] - x1 * sin[k];
            dst[b] = x0 * sin[k] + x1 * cos[k];
        }
        x[nDims..].CopyTo(dst[nDims..]);
    }

    /// <summary>The AVX2/FMA path of <see cref="Row"/>.</summary>
    public static unsafe void Vector256(ReadOnlySpan<float> x, Span<float> dst, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, int nDims, int mode)
    {
        int half = nDims / 2;
        bool neox = (mode & RopeMode.NeoX) != 0;
        int k = 0;
        fixed (float* xp = x, dp = dst, cp = cos, sp = sin)
        {
            if (neox)
            {
                for (; k <= half - 8; k += 8)
                {
                    Vector256<float> x0 = Avx.LoadVector256(xp + k), x1 = Avx.LoadVector256(xp + k + half);
                    Vector256<float> c = Avx.LoadVector256(cp + k), s = Avx.LoadVector256(sp + k);
                    Avx.Store(dp + k, Fma.MultiplyAddNegated(x1, s, x0 * c));
                    Avx.Store(dp + k + half, Fma.MultiplyAdd(x1, c, x0 * s));
                }
            }
            else
            {
                Vector256<int> dup = System.Runtime.Intrinsics.Vector256.Create(0, 0, 1, 1, 2, 2, 3, 3);
                for (; k <= half - 4; k += 4)
                {
                    Vector256<float> v = Avx.LoadVector256(xp + 2 * k);
                    Vector256<float> c = Avx2.PermuteVar8x32(Sse.LoadVector128(cp + k).ToVector256Unsafe(), dup);
                    Vector256<float> s = Avx2.PermuteVar8x32(Sse.LoadVector128(sp + k).ToVector256Unsafe(), dup);
                    Vector256<float> swapped = Avx.Permute(v, 0b10_11_00_01);
                    // even lanes: x0·c - x1·s; odd lanes: x1·c + x0·s.
                    Avx.Store(dp + 2 * k, Fma.MultiplyAddSubtract(v, c, swapped * s));
                }
            }
        }
        for (; k < half; k++)
        {
            int a = neox ? k : 2 * k;
            int b = neox ? k + half : 2 * k + 1;
            float x0 = x[a], x1 = x[b];
            dst[a] = x0 * cos[k] - x1 * sin[k];
            dst[b] = x0 * sin[k] + x1 * cos[k];
        }
        x[nDims..].CopyTo(dst[nDims..]);
    }
}
