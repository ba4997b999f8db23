using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Weft.Search.Vectors;

namespace Weft.Search.Hnsw;

/// <summary>
/// A (metric, storage) pair as a struct type: the graph code is generic over it, so the distance call is inlined and
/// the ISA/storage choice is made once per call rather than per element [hnswlib picks its space once].
/// </summary>
internal unsafe interface ISpace
{
    /// <summary>Distance between a float query and a stored code.</summary>
    static abstract float Distance(float* query, byte* code, int dim);
}

internal struct L2F32Space : ISpace
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe float Distance(float* q, byte* code, int dim) => DistanceKernels.L2Squared(q, (float*)code, dim);
}

internal struct IpF32Space : ISpace
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe float Distance(float* q, byte* code, int dim) => 1f - DistanceKernels.Dot(q, (float*)code, dim);
}

internal struct L2F16Space : ISpace
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe float Distance(float* q, byte* code, int dim)
    {
        float* tmp = stackalloc float[dim];
        TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(code, dim), new Span<float>(tmp, dim));
        return DistanceKernels.L2Squared(q, tmp, dim);
    }
}

internal struct IpF16Space : ISpace
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe float Distance(float* q, byte* code, int dim)
    {
        float* tmp = stackalloc float[dim];
        TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(code, dim), new Span<float>(tmp, dim));
        return 1f - DistanceKernels.Dot(q, tmp, dim);
    }
}

internal struct L2Int8Space : ISpace
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe float Distance(float* q, byte* code, int dim) =>
        DistanceKernels.L2SquaredInt8(q, (sbyte*)(code + 4), *(float*)code, dim);
}

internal struct IpInt8Space : ISpace
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe float Distance(float* q, byte* code, int dim) =>
        1f - DistanceKernels.DotInt8(q, (sbyte*)(code + 4), *(float*)code, dim);
}
