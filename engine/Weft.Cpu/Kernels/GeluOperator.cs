using System.Runtime.Intrinsics;

namespace Weft.Cpu.Kernels;

/// <summary>
/// GELU, tanh approximation as ggml: <c>0.5·x·(1 + tanh(√(2/π)·x·(1 + 0.044715·x²)))</c>. tanh(u) is evaluated as
/// <c>1 - 2/(e^{2u} + 1)</c>, which saturates cleanly to ±1 (ggml's default CPU path reads an F16 table instead; Weft
/// computes the formula in F32).
/// </summary>
public readonly struct GeluOperator : IUnaryOperator
{
    private const float SqrtTwoOverPi = 0.79788456080286535587989211986876f;
    private const float Coef = 0.044715f;

    /// <inheritdoc/>
    public static float Invoke(float x)
    {
        float u = SqrtTwoOverPi * x * (1f + Coef * x * x);
        return 0.5f * x * (1f + MathF.Tanh(u));
    }

    /// <inheritdoc/>
    public static Vector256<float> Invoke(Vector256<float> x)
    {
        Vector256<float> u = Vector256.Create(SqrtTwoOverPi) * x * (Vector256<float>.One + Vector256.Create(Coef) * x * x);
        Vector256<float> e = VectorMath.Exp(u + u);
        Vector256<float> tanh = Vector256<float>.One - Vector256.Create(2f) / (e + Vector256<float>.One);
        return Vector256.Create(0.5f) * x * (Vector256<float>.One + tanh);
    }
}
