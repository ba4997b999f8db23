using System.Runtime.Intrinsics;

namespace Weft.Cpu.Kernels;

/// <summary>An element-wise binary operator: the scalar <see cref="Invoke(float, float)"/> is the spec.</summary>
public interface IBinaryOperator
{
    /// <summary>The scalar operator (reference).</summary>
    static abstract float Invoke(float x, float y);
    /// <summary>The same operator on eight lanes.</summary>
    static abstract Vector256<float> Invoke(Vector256<float> x, Vector256<float> y);
}
