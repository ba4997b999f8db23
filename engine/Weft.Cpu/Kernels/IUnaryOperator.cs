using System.Runtime.Intrinsics;

namespace Weft.Cpu.Kernels;

/// <summary>An element-wise unary operator: the scalar <see cref="Invoke(float)"/> is the spec.</summary>
public interface IUnaryOperator
{
    /// <summary>The scalar operator (reference).</summary>
    static abstract float Invoke(float x);
    /// <summary>The same operator on eight lanes.</summary>
    static abstract Vector256<float> Invoke(Vector256<float> x);
}
