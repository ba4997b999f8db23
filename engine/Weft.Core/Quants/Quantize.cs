using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Weft.Core.Quants;

/// <summary>
/// Reference quantization of F32 rows into ggml block formats, byte-identical to ggml's
/// <c>quantize_row_*_ref</c> (the path llama-quantize takes without an importance matrix).
/// </summary>
/// <remarks>
/// <para>Usage: <c>byte[] q = new byte[TypeTraits.Of(DType.Q4_K).RowSize(n)]; Quantize.Row(DType.Q4_K, x, q);</c>
/// then <c>Dequantize.Row(DType.Q4_K, q, y)</c> gives the values a kernel computes with.</para>
/// <para>Each type's code keeps ggml's float (not double) arithmetic and its operation order, because the exact
/// bytes depend on it. A row is any whole number of blocks; blocks are independent, so callers may split a tensor
/// at block boundaries across threads.</para>
/// <para>NaN inputs give unspecified (but memory-safe) blocks, as in ggml.</para>
/// </remarks>
public static partial class Quantize
{
    /// <summary>True when <see cref="Row"/> can produce <paramref name="type"/>.</summary>
    public static bool IsSupported(DType type) => type switch
    {
        DType.F32 or DType.F16 or DType.BF16 or DType.Q4_0 or DType.Q4_1 or DType.Q5_0 or DType.Q5_1 or DType.Q8_0
            or DType.Q8_1 or DType.Q4_K or DType.Q5_K or DType.Q6_K or DType.Q8_K => true,
        _ => false,
    };

    /// <summary>Quantizes <paramref name="src"/> (a whole number of blocks of <paramref name="type"/>) into <paramref name="dst"/>.</summary>
    /// <param name="type">Target type.</param>
    /// <param name="src">F32 values; the length must be a multiple of the type's block size.</param>
    /// <param name="dst">Exactly <c>TypeTraits.Of(type).RowSize(src.Length)</c> bytes.</param>
    /// <exception cref="ArgumentException">The lengths do not fit the type's blocks.</exception>
    /// <exception cref="NotSupportedException">The type cannot be produced (see <see cref="IsSupported"/>).</exception>
    public static void Row(DType type, ReadOnlySpan<float> src, Span<byte> dst)
    {
        switch (type)
        {
            case DType.F32: RowF32(src, dst); break;
            case DType.F16: RowF16(src, dst); break;
            case DType.BF16: RowBF16(src, dst); break;
            case DType.Q4_0: RowQ4_0(src, dst); break;
            case DType.Q4_1: RowQ4_1(src, dst); break;
            case DType.Q5_0: RowQ5_0(src, dst); break;
            case DType.Q5_1: RowQ5_1(src, dst); break;
            case DType.Q8_0: RowQ8_0(src, dst); break;
            case DType.Q8_1: RowQ8_1(src, dst); break;
            case DType.Q4_K: RowQ4_K(src, dst); break;
            case DType.Q5_K: RowQ5_K(src, dst); break;
            case DType.Q6_K: RowQ6_K(src, dst); break;
            case DType.Q8_K: RowQ8_K(src, dst); break;
            default:
                throw new NotSupportedException(
                    $"Quantizing to {TypeName(type)} is not supported; supported types: f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, q8_1, q4_k, q5_k, q6_k, q8_k.");
        }
    }

    /// <summary>Copies F32 values as raw little-endian bytes.</summary>
    /// <exception cref="ArgumentException"><paramref name="dst"/> is not 4 bytes per value.</exception>
    public static void RowF32(ReadOnlySpan<float> src, Span<byte> dst)
    {
        CheckSizes(DType.F32, src.Length, dst.Length);
        MemoryMarshal.AsBytes(src).CopyTo(dst);
    }

    /// <summary>Converts to F16 with round-to-nearest-even (<see cref="Fp16.ToHalf(float)"/>).</summary>
    /// <exception cref="ArgumentException"><paramref name="dst"/> is not 2 bytes per value.</exception>
    public static void RowF16(ReadOnlySpan<float> src, Span<byte> dst)
    {
        CheckSizes(DType.F16, src.Length, dst.Length);
        for (int i = 0; i < src.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(dst[(2 * i)..], Fp16.ToHalf(src[i]));
        }
    }

    /// <summary>Converts to BF16 as ggml does (<see cref="Bf16.FromFloat"/>).</summary>
    /// <exception cref="ArgumentException"><paramref name="dst"/> is not 2 bytes per value.</exception>
    public static void RowBF16(ReadOnlySpan<float> src, Span<byte> dst)
    {
        CheckSizes(DType.BF16, src.Length, dst.Length);
        for (int i = 0; i < src.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(dst[(2 * i)..], Bf16.FromFloat(src[i]));
        }
    }

    /// <summary>Validates that <paramref name="n"/> values fill whole blocks of <paramref name="type"/> and that the byte count matches.</summary>
    /// <returns>The number of blocks.</returns>
    internal static int CheckSizes(DType type, int n, int bytes)
    {
        TypeTraits t = TypeTraits.Of(type);
        if (n % t.BlockSize != 0)
        {
            throw new ArgumentException(
                $"{t.Name}: {n} values are not a whole number of blocks of {t.BlockSize}; pad or split the row at a multiple of {t.BlockSize}.");
        }
        long expected = (long)(n / t.BlockSize) * t.TypeSize;
        if (bytes != expected)
        {
            throw new ArgumentException(
                $"{t.Name}: {n} values take {expected} bytes ({n / t.BlockSize} blocks of {t.TypeSize}), but the byte span holds {bytes}.");
        }
        return n / t.BlockSize;
    }

    internal static string TypeName(DType type) => TypeTraits.IsKnown((int)type) ? TypeTraits.Of(type).Name : $"type id {(int)type}";

    private static void WriteHalf(Span<byte> dst, float value) => BinaryPrimitives.WriteUInt16LittleEndian(dst, Fp16.ToHalf(value));
}
