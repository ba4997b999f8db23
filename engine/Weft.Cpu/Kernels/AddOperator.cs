using System.Runtime.Intrinsics;

namespace Weft.Cpu.Kernels;

/// <summary><c>x + y</c>.</summary>
public readonly struct AddOperator : IBinaryOperator
{
    /// <inheritdoc/>
    public static float Invoke(float x, float y) => x + y;
    /// <inheritdoc/>
    public static Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => x + y;
}
