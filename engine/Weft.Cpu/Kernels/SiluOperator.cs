using System.Runtime.Intrinsics;

namespace Weft.Cpu.Kernels;

/// <summary><c>x * sigmoid(x)</c>; the vector path uses <see cref="VectorMath.Exp"/> (relative error &lt; 1e-6).</summary>
public readonly struct SiluOperator : IUnaryOperator, IBinaryOperator
{
    /// <inheritdoc/>
    public static float Invoke(float x) => x / (1f + MathF.Exp(-x));
    /// <inheritdoc/>
    public static Vector256<float> Invoke(Vector256<float> x) => x / (Vector256<float>.One + VectorMath.Exp(-x));
    /// <summary>SwiGLU: <c>silu(x) * y</c>.</summary>
    public static float Invoke(float x, float y) => Invoke(x) * y;
    /// <summary>SwiGLU on eight lanes.</summary>
    public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => Invoke(x) * y;
}
