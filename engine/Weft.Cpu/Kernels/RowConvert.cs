using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Weft.Core;
using Weft.Core.Quants;

namespace Weft.Cpu.Kernels;

/// <summary>
/// Row conversions between F32 and every computable storage type, used by GetRows, Cpy and Cont.
/// </summary>
/// <remarks>
/// Quantized types go through <see cref="Dequantize"/> / <see cref="Quantize"/> (ggml-exact reference code). F16 and
/// BF16 → F32 are exact in both paths (Vector256 widens eight at a time); F32 → F16 rounds to nearest even through
/// <see cref="Fp16.ToHalf(float)"/> and F32 → BF16 through <see cref="Bf16.FromFloat"/>, as ggml does.
/// </remarks>
public static unsafe class RowConvert
{
    /// <summary>True when rows of <paramref name="type"/> can be read as F32.</summary>
    public static bool CanRead(DType type) => type is DType.F32 or DType.F16 or DType.BF16 || (Dequantize.IsSupported(type) && TypeTraits.Of(type).IsSupported);

    /// <summary>True when F32 rows can be written as <paramref name="type"/>.</summary>
    public static bool CanWrite(DType type) => type is DType.F32 or DType.F16 or DType.BF16 || (Quantize.IsSupported(type) && TypeTraits.Of(type).IsSupported);

    /// <summary>Converts a row of <paramref name="n"/> elements of <paramref name="type"/> at <paramref name="src"/> to F32.</summary>
    public static void ToF32(DType type, byte* src, float* dst, int n)
    {
        switch (type)
        {
            case DType.F32:
                Buffer.MemoryCopy(src, dst, (long)n * 4, (long)n * 4);
                return;
            case DType.F16 when CpuFeatures.UseAvx2:
                HalfToF32Vector256((ushort*)src, dst, n);
                return;
            case DType.BF16 when CpuFeatures.UseAvx2:
            {
                int i = 0;
                for (; i <= n - 8; i += 8)
                {
                    Avx.Store(dst + i, VectorMath.BFloat16ToSingle((ushort*)src + i));
                }
                for (; i < n; i++)
                {
                    dst[i] = Bf16.ToFloat(((ushort*)src)[i]);
                }
                return;
            }
            default:
                Dequantize.Row(type, new ReadOnlySpan<byte>(src, checked((int)TypeTraits.Of(type).RowSize(n))), new Span<float>(dst, n));
                return;
        }
    }

    /// <summary>Vector256 widening of F16 (exact; the reference is <see cref="Fp16.ToFloat(ushort)"/>).</summary>
    public static void HalfToF32Vector256(ushort* src, float* dst, int n)
    {
        int i = 0;
        for (; i <= n - 8; i += 8)
        {
            Avx.Store(dst + i, VectorMath.HalfToSingle(src + i));
        }
        for (; i < n; i++)
        {
            dst[i] = Fp16.ToFloat(src[i]);
        }
    }

    /// <summary>Converts <paramref name="n"/> F32 values at <paramref name="src"/> into a row of <paramref name="type"/>.</summary>
    public static void FromF32(DType type, float* src, byte* dst, int n)
    {
        if (type == DType.F32)
        {
            Buffer.MemoryCopy(src, dst, (long)n * 4, (long)n * 4);
            return;
        }
        Quantize.Row(type, new ReadOnlySpan<float>(src, n), new Span<byte>(dst, checked((int)TypeTraits.Of(type).RowSize(n))));
    }
}
