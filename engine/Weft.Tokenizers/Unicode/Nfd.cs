namespace Weft.Tokenizers.Unicode;

/// <summary>
/// Canonical decomposition (NFD) of single code points. .NET's own normalisation is unavailable under invariant
/// globalisation, so the table is carried here (see <c>Nfd.Data.g.cs</c>).
/// </summary>
internal static partial class Nfd
{
    private static readonly Dictionary<int, (int Start, int Length)> s_index = BuildIndex();
    private static readonly int[] s_data = Data.ToArray();

    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7, TCount = 28, NCount = 588, SCount = 11172;

    private static Dictionary<int, (int, int)> BuildIndex()
    {
        ReadOnlySpan<int> d = Data;
        var map = new Dictionary<int, (int, int)>(2100);
        for (int i = 0; i < d.Length;)
        {
            int cp = d[i], len = d[i + 1];
            map[cp] = (i + 2, len);
            i += 2 + len;
        }
        return map;
    }

    /// <summary>Appends the full canonical decomposition of <paramref name="cp"/> (itself when it has none).</summary>
    public static void Decompose(int cp, List<int> output)
    {
        if (cp is >= SBase and < SBase + SCount)
        {
            int s = cp - SBase;
            output.Add(LBase + s / NCount);
            output.Add(VBase + s % NCount / TCount);
            if (s % TCount != 0)
            {
                output.Add(TBase + s % TCount);
            }
            return;
        }
        if (s_index.TryGetValue(cp, out var r))
        {
            for (int i = 0; i < r.Length; i++)
            {
                output.Add(s_data[r.Start + i]);
            }
            return;
        }
        output.Add(cp);
    }

    /// <summary>The first code point of the decomposition (llama.cpp's one-to-one NFD table keeps only that).</summary>
    public static int First(int cp)
    {
        if (cp is >= SBase and < SBase + SCount)
        {
            return LBase + (cp - SBase) / NCount;
        }
        return s_index.TryGetValue(cp, out var r) ? s_data[r.Start] : cp;
    }
}
