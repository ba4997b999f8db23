using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Weft.Cpu.Quants;

/// <summary>
/// Shared scalar and AVX2 building blocks of the dot-product kernels: f16 decoding (there is no F16C intrinsic in
/// .NET, so halves are widened with integer operations), nibble unpacking and the signed 8-bit pair products
/// (<c>vpmaddubsw</c> needs an unsigned left operand, hence the sign trick).
/// </summary>
internal static unsafe class QuantSimd
{
    // f16 → f32 for all 65536 bit patterns (256 KiB, native so the lookup has no bounds check): block scales are
    // decoded with one load instead of a dozen scalar operations. Block scales of a tensor take few distinct
    // values, so the lines touched stay in L1.
    private static readonly float* s_halfTable = BuildHalfTable();

    private static float* BuildHalfTable()
    {
        float* t = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(65536 * sizeof(float), 64);
        for (int h = 0; h < 65536; h++)
        {
            t[h] = HalfToFloat((ushort)h);
        }
        return t;
    }

    /// <summary>Decodes f16 bits to f32 exactly (normals, subnormals, infinities, NaN).</summary>
    /// <remarks>
    /// The magnitude bits moved to f32 position and multiplied by 2^112 rebias the exponent and normalise
    /// subnormals in one rounding-free multiply; only exponent 31 (inf/NaN) needs the explicit fix.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HalfToFloat(ushort h)
    {
        uint em = (uint)(h & 0x7FFF) << 13;
        float f = BitConverter.UInt32BitsToSingle(em) * 5.192296858534828e33f; // 2^112
        uint bits = BitConverter.SingleToUInt32Bits(f);
        if ((h & 0x7C00) == 0x7C00)
        {
            bits |= 0x7F80_0000u;
        }
        return BitConverter.UInt32BitsToSingle(bits | ((uint)(h & 0x8000) << 16));
    }

    /// <summary>Decodes bf16 bits to f32 (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Bf16ToFloat(ushort h) => BitConverter.UInt32BitsToSingle((uint)h << 16);

    /// <summary>
    /// The f16 → f32 table, for <see cref="Half(float*, void*)"/>. Kernels read it once into a local before their
    /// loop: a static field read inside the loop keeps a class-initialisation check there when the kernel is compiled
    /// before this class is first used (AggressiveOptimization methods are never recompiled), and its helper call
    /// makes the JIT spill every vector accumulator to the stack on each iteration (measured: the q4_0 mat-vec ran at
    /// 2.3 ns a block instead of 1.0).
    /// </summary>
    public static float* HalfTable => s_halfTable;

    /// <summary>Decodes the f16 at <paramref name="p"/> through <paramref name="table"/> (<see cref="HalfTable"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Half(float* table, void* p) => table[*(ushort*)p];

    /// <summary>Decodes 8 consecutive f16 values at <paramref name="p"/> into 8 floats, in order, exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadHalf8(ushort* p)
    {
        Vector256<int> s = Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(p), 16);
        // Arithmetic shift keeps the sign at bit 31 and drops exponent+mantissa to f32 positions.
        Vector256<int> t = Avx2.And(Avx2.ShiftRightArithmetic(s, 3), Vector256.Create(unchecked((int)0x8FFF_E000)));
        Vector256<float> f = Avx.Multiply(t.AsSingle(), Vector256.Create(5.192296858534828e33f));
        Vector256<int> inf = Avx2.CompareEqual(Avx2.And(s, Vector256.Create(0x7C00_0000)), Vector256.Create(0x7C00_0000));
        return Avx.Or(f, Avx2.And(inf, Vector256.Create(0x7F80_0000)).AsSingle());
    }

    /// <summary>2^112: an f16's exponent and mantissa bits moved to f32 positions read as f32 are its value times 2^-112.</summary>
    public const float HalfScale = 5.192296858534828e33f;

    /// <summary>2^-112, the inverse of <see cref="HalfScale"/>.</summary>
    public const float HalfScaleInverse = 1.925929944387236e-34f;

    /// <summary>
    /// 8 consecutive finite f16 values times 2^-112 (<see cref="HalfScaleInverse"/>), exactly: the bits moved into
    /// place without the scaling multiply. The SIMD F16 matmul kernels pair them with activations scaled by
    /// <see cref="HalfScale"/>, so each product is the exact f16·f16 product (the one rounding of the FMA unchanged).
    /// Exponent 31 (inf/NaN) comes out finite, so callers must rule it out.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadHalf8FiniteScaledDown(ushort* p) =>
        Avx2.And(Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32((short*)p), 13), Vector256.Create(unchecked((int)0x8FFF_E000))).AsSingle();

    /// <summary>Decodes 8 consecutive bf16 values at <paramref name="p"/> into 8 floats, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadBf16x8(ushort* p) =>
        Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(p), 16).AsSingle();

    /// <summary>32 nibbles of 16 bytes: low nibbles in the lower 128-bit lane, high nibbles in the upper one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Nibbles32(byte* p)
    {
        Vector128<byte> t = Sse2.LoadVector128(p);
        Vector256<byte> b = Vector256.Create(t, Sse2.ShiftRightLogical(t.AsUInt16(), 4).AsByte());
        return Avx2.And(b, Vector256.Create((byte)0x0F));
    }

    /// <summary>Byte j is 0xFF where bit j of the 32-bit <paramref name="bits"/> is set, else 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> BytesFromBits32(uint bits)
    {
        Vector256<byte> spread = Avx2.Shuffle(Vector256.Create(bits).AsByte(),
            Vector256.Create(0x0000_0000_0000_0000UL, 0x0101_0101_0101_0101UL, 0x0202_0202_0202_0202UL, 0x0303_0303_0303_0303UL).AsByte());
        // Each byte k of an 8-byte group keeps all bits but bit k; with bit k set as well it becomes 0xFF.
        Vector256<byte> probe = Avx2.Or(spread, Vector256.Create(0x7FBF_DFEF_F7FB_FDFEUL).AsByte());
        return Avx2.CompareEqual(probe, Vector256<byte>.AllBitsSet);
    }

    /// <summary>Eight int32 sums of adjacent signed byte products of <paramref name="x"/> and <paramref name="y"/>, as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MulSumI8PairsFloat(Vector256<sbyte> x, Vector256<sbyte> y) =>
        Avx.ConvertToVector256Single(MulSumI8Pairs(x, y));

    /// <summary>Eight int32 sums of four signed byte products each.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> MulSumI8Pairs(Vector256<sbyte> x, Vector256<sbyte> y)
    {
        // |x| * (y with x's sign) = x * y, with the left operand unsigned as vpmaddubsw needs.
        Vector256<byte> ax = Avx2.Sign(x, x).AsByte();
        Vector256<sbyte> sy = Avx2.Sign(y, x);
        return Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(ax, sy), Vector256.Create((short)1));
    }

    /// <summary>Eight int32 sums of four products of unsigned <paramref name="x"/> and signed <paramref name="y"/> bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> MulSumU8Pairs(Vector256<byte> x, Vector256<sbyte> y) =>
        Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(x, y), Vector256.Create((short)1));

    /// <summary>
    /// Broadcasts 16-bit lane <c>lo</c> of <paramref name="scales"/> over the lower 128-bit lane and lane <c>hi</c> over
    /// the upper one, given the byte-pair masks <paramref name="maskLo"/> = 2lo | (2lo+1) &lt;&lt; 8 (likewise
    /// <paramref name="maskHi"/>). With literal masks this is one vpshufb with a constant.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<short> SpreadScales(Vector256<short> scales, short maskLo, short maskHi) =>
        Avx2.Shuffle(scales.AsByte(), Vector256.Create(Vector128.Create(maskLo), Vector128.Create(maskHi)).AsByte()).AsInt16();

    /// <summary>Horizontal sum of eight floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HSum(Vector256<float> v)
    {
        return HSum4(Sse.Add(v.GetLower(), v.GetUpper()));
    }

    /// <summary>Horizontal sum of four floats ((0 + 2) + (1 + 3)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HSum4(Vector128<float> s)
    {
        s = Sse.Add(s, Sse.MoveHighToLow(s, s));
        s = Sse.AddScalar(s, Sse.Shuffle(s, s, 0x55));
        return s.ToScalar();
    }

    /// <summary>
    /// Unpacks Q4_K/Q5_K 12-byte packed 6-bit scales and mins into a register: bytes 0-7 the 8 sub-block scales,
    /// bytes 8-15 the 8 mins (ggml's utmp shuffle, kept out of memory so no store-to-load forwarding stall follows).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> UnpackScalesMinsK4(byte* scales)
    {
        const uint kmask1 = 0x3f3f3f3f, kmask2 = 0x0f0f0f0f, kmask3 = 0x03030303;
        uint u0 = *(uint*)scales, u1 = *(uint*)(scales + 4), u2 = *(uint*)(scales + 8);
        return Vector128.Create(
            u0 & kmask1,
            (u2 & kmask2) | (((u0 >> 6) & kmask3) << 4),
            u1 & kmask1,
            ((u2 >> 4) & kmask2) | (((u1 >> 6) & kmask3) << 4)).AsByte();
    }
}
