using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Weft.Core;

namespace Weft.Cpu.Quants;

/// <summary>
/// Remembers which F16 weight tensors hold no inf/NaN, so the decode mat-vec can skip the per-row check of
/// <see cref="VecDotF16.Avx2PathF32"/> (<see cref="VecDotF16.Avx2PathF32Finite"/>). Only model weights qualify
/// (leaves flagged <see cref="TensorFlags.Weight"/> and not <see cref="TensorFlags.Param"/>: their bytes never change
/// once loaded); each is scanned once, on first use, and the answer is tied to the tensor and its data address.
/// </summary>
internal static unsafe class FiniteWeights
{
    private sealed record Entry(nint Data, bool Finite);

    private static readonly ConditionalWeakTable<Tensor, Entry> s_known = new();

    /// <summary>True when <paramref name="w"/> is an immutable F16 weight whose every value is finite.</summary>
    public static bool IsFiniteF16(Tensor w)
    {
        if (w.Type != DType.F16 || w.Op != OpKind.None || (w.Flags & TensorFlags.Weight) == 0 || (w.Flags & TensorFlags.Param) != 0 || w.Data == 0)
        {
            return false;
        }
        if (s_known.TryGetValue(w, out Entry? e) && e.Data == w.Data)
        {
            return e.Finite;
        }
        bool finite = ScanF16(w);
        s_known.AddOrUpdate(w, new Entry(w.Data, finite));
        return finite;
    }

    // Every row of every 2-D slice: true when no element has the all-ones exponent of inf/NaN.
    private static bool ScanF16(Tensor w)
    {
        int n = checked((int)w.Ne[0]);
        for (long i3 = 0; i3 < w.Ne[3]; i3++)
        {
            for (long i2 = 0; i2 < w.Ne[2]; i2++)
            {
                for (long i1 = 0; i1 < w.Ne[1]; i1++)
                {
                    if (!RowFinite((ushort*)((byte*)w.Data + i1 * w.Nb[1] + i2 * w.Nb[2] + i3 * w.Nb[3]), n))
                    {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool RowFinite(ushort* a, int n)
    {
        int i = 0;
        if (Avx2.IsSupported)
        {
            Vector256<ushort> hmax = Vector256<ushort>.Zero;
            Vector256<ushort> magnitude = Vector256.Create((ushort)0x7FFF);
            for (; i + 16 <= n; i += 16)
            {
                hmax = Avx2.Max(hmax, Avx2.And(Avx.LoadVector256(a + i), magnitude));
            }
            if (Vector256.GreaterThanOrEqualAny(hmax, Vector256.Create((ushort)0x7C00)))
            {
                return false;
            }
        }
        for (; i < n; i++)
        {
            if ((a[i] & 0x7C00) == 0x7C00)
            {
                return false;
            }
        }
        return true;
    }
}
