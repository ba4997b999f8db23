using System.Runtime.Intrinsics;

namespace Weft.Cpu.Kernels;

/// <summary>Layer normalisation of one row without affine: <c>dst[i] = (x[i] - mean) / sqrt(var + eps)</c>.</summary>
/// <remarks>
/// Two passes as ggml: the mean, then the variance of the centred values (numerically safer than E[x²] - mean²).
/// The reference accumulates in double; the Vector256 path in F32 vector accumulators (relative difference &lt; 1e-5).
/// </remarks>
public static class NormKernel
{
    /// <summary>Normalises <paramref name="x"/> into <paramref name="dst"/> (may alias) with the path chosen at start-up.</summary>
    public static void Row(ReadOnlySpan<float> x, Span<float> dst, float eps)
    {
        if (CpuFeatures.UseAvx2)
        {
            Vector256(x, dst, eps);
        }
        else
        {
            Reference(x, dst, eps);
        }
    }

    /// <summary>The scalar spec.</summary>
    public static void Reference(ReadOnlySpan<float> x, Span<float> dst, float eps)
    {
        int n = x.Length;
        if (n == 0)
        {
            return;
        }
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            sum += x[i];
        }
        float mean = (float)(sum / n);
        double sq = 0;
        for (int i = 0; i < n; i++)
        {
            float c = x[i] - mean;
            dst[i] = c;
            sq += (double)c * c;
        }
        float scale = 1f / MathF.Sqrt((float)(sq / n) + eps);
        for (int i = 0; i < n; i++)
        {
            dst[i] *= scale;
        }
    }

    /// <summary>The AVX2/FMA path.</summary>
    public static void Vector256(ReadOnlySpan<float> x, Span<float> dst, float eps)
    {
        int n = x.Length;
        if (n == 0)
        {
            return;
        }
        float mean = RmsNormKernel.Sum(x) / n;
        Elementwise.BinaryVector256<AddOperator>(x, -mean, dst);
        float var = RmsNormKernel.SumOfSquares(dst[..n]) / n;
        float scale = 1f / MathF.Sqrt(var + eps);
        Elementwise.BinaryVector256<MulOperator>(dst[..n], scale, dst);
    }
}
