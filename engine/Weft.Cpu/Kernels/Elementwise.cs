using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Weft.Cpu.Kernels;

/// <summary>
/// The loop drivers of the element-wise families: one <c>Reference</c> (scalar operator) and one <c>Vector256</c>
/// (eight lanes, scalar remainder) per shape of call; the public entry points pick once via <see cref="CpuFeatures.UseAvx2"/>.
/// </summary>
/// <remarks>Effectively computes <c>dst[i] = op(x[i])</c> or <c>dst[i] = op(x[i], y[i])</c>; dst may alias x.</remarks>
public static class Elementwise
{
    /// <summary><c>dst[i] = TOp(x[i])</c> with the path chosen at start-up.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unary<TOp>(ReadOnlySpan<float> x, Span<float> dst) where TOp : IUnaryOperator
    {
        if (CpuFeatures.UseAvx2)
        {
            UnaryVector256<TOp>(x, dst);
        }
        else
        {
            UnaryReference<TOp>(x, dst);
        }
    }

    /// <summary>Scalar spec of <see cref="Unary{TOp}"/>.</summary>
    public static void UnaryReference<TOp>(ReadOnlySpan<float> x, Span<float> dst) where TOp : IUnaryOperator
    {
        Debug.Assert(dst.Length >= x.Length);
        for (int i = 0; i < x.Length; i++)
        {
            dst[i] = TOp.Invoke(x[i]);
        }
    }

    /// <summary>Vector256 path of <see cref="Unary{TOp}"/>.</summary>
    public static void UnaryVector256<TOp>(ReadOnlySpan<float> x, Span<float> dst) where TOp : IUnaryOperator
    {
        Debug.Assert(dst.Length >= x.Length);
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float dr = ref MemoryMarshal.GetReference(dst);
        int n = x.Length, i = 0;
        for (; i <= n - 8; i += 8)
        {
            TOp.Invoke(Vector256.LoadUnsafe(ref xr, (nuint)i)).StoreUnsafe(ref dr, (nuint)i);
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref dr, i) = TOp.Invoke(Unsafe.Add(ref xr, i));
        }
    }

    /// <summary><c>dst[i] = TOp(x[i], y[i])</c> with the path chosen at start-up.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Binary<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> dst) where TOp : IBinaryOperator
    {
        if (CpuFeatures.UseAvx2)
        {
            BinaryVector256<TOp>(x, y, dst);
        }
        else
        {
            BinaryReference<TOp>(x, y, dst);
        }
    }

    /// <summary>Scalar spec of <see cref="Binary{TOp}(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/>.</summary>
    public static void BinaryReference<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> dst) where TOp : IBinaryOperator
    {
        Debug.Assert(y.Length >= x.Length && dst.Length >= x.Length);
        for (int i = 0; i < x.Length; i++)
        {
            dst[i] = TOp.Invoke(x[i], y[i]);
        }
    }

    /// <summary>Vector256 path of <see cref="Binary{TOp}(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/>.</summary>
    public static void BinaryVector256<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> dst) where TOp : IBinaryOperator
    {
        Debug.Assert(y.Length >= x.Length && dst.Length >= x.Length);
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref float dr = ref MemoryMarshal.GetReference(dst);
        int n = x.Length, i = 0;
        for (; i <= n - 8; i += 8)
        {
            TOp.Invoke(Vector256.LoadUnsafe(ref xr, (nuint)i), Vector256.LoadUnsafe(ref yr, (nuint)i)).StoreUnsafe(ref dr, (nuint)i);
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref dr, i) = TOp.Invoke(Unsafe.Add(ref xr, i), Unsafe.Add(ref yr, i));
        }
    }

    /// <summary><c>dst[i] = TOp(x[i], y)</c> (scalar second operand) with the path chosen at start-up.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Binary<TOp>(ReadOnlySpan<float> x, float y, Span<float> dst) where TOp : IBinaryOperator
    {
        if (CpuFeatures.UseAvx2)
        {
            BinaryVector256<TOp>(x, y, dst);
        }
        else
        {
            BinaryReference<TOp>(x, y, dst);
        }
    }

    /// <summary>Scalar spec of <see cref="Binary{TOp}(ReadOnlySpan{float}, float, Span{float})"/>.</summary>
    public static void BinaryReference<TOp>(ReadOnlySpan<float> x, float y, Span<float> dst) where TOp : IBinaryOperator
    {
        Debug.Assert(dst.Length >= x.Length);
        for (int i = 0; i < x.Length; i++)
        {
            dst[i] = TOp.Invoke(x[i], y);
        }
    }

    /// <summary>Vector256 path of <see cref="Binary{TOp}(ReadOnlySpan{float}, float, Span{float})"/>.</summary>
    public static void BinaryVector256<TOp>(ReadOnlySpan<float> x, float y, Span<float> dst) where TOp : IBinaryOperator
    {
        Debug.Assert(dst.Length >= x.Length);
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float dr = ref MemoryMarshal.GetReference(dst);
        Vector256<float> yv = Vector256.Create(y);
        int n = x.Length, i = 0;
        for (; i <= n - 8; i += 8)
        {
            TOp.Invoke(Vector256.LoadUnsafe(ref xr, (nuint)i), yv).StoreUnsafe(ref dr, (nuint)i);
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref dr, i) = TOp.Invoke(Unsafe.Add(ref xr, i), y);
        }
    }
}
