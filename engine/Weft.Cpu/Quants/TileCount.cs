namespace Weft.Cpu.Quants;

/// <summary>
/// A compile-time count for the register-tiled matmul kernels: a kernel generic over <c>TRows</c>/<c>TCols</c>
/// structs is specialised by the JIT for each count, and the <c>if (T.N &gt; j)</c> guards on unused accumulators
/// fold away, so one source gives every tile shape from 1 × 1 to 4 × 4 with the accumulators in registers.
/// </summary>
internal interface ITileCount
{
    /// <summary>The count (1..4).</summary>
    static abstract int N { get; }
}

internal readonly struct Tile1 : ITileCount
{
    public static int N => 1;
}

internal readonly struct Tile2 : ITileCount
{
    public static int N => 2;
}

internal readonly struct Tile3 : ITileCount
{
    public static int N => 3;
}

internal readonly struct Tile4 : ITileCount
{
    public static int N => 4;
}
