namespace Weft.Search.Hnsw;

/// <summary>
/// Per-thread search state: the visited set (a <c>ushort</c> tag per slot with a generation counter, cleared only
/// when the counter wraps) and the two heaps. One per thread, so concurrent searches never share it.
/// </summary>
internal sealed class SearchScratch
{
    [ThreadStatic]
    private static SearchScratch? t_instance;

    public ushort[] Visited = [];
    public ushort Tag;
    public readonly DistHeap Top = new(max: true);
    public readonly DistHeap Candidates = new(max: false);
    public readonly List<(float D, int Id)> Sorted = new();
    public readonly List<(float D, int Id)> Sorted2 = new();
    public readonly List<(float D, int Id)> Selected = new();
    public readonly List<(float D, int Id)> Kept = new();
    public readonly List<int> OneHop = new();
    public readonly List<int> Pool = new();
    public float[] Decode = [];
    public float[] Decode2 = [];

    public static SearchScratch Get(int capacity, int dim)
    {
        SearchScratch s = t_instance ??= new SearchScratch();
        if (s.Visited.Length < capacity)
        {
            s.Visited = new ushort[Math.Max(capacity, s.Visited.Length * 2)];
            s.Tag = 0;
        }
        if (s.Decode.Length < dim)
        {
            s.Decode = new float[dim];
            s.Decode2 = new float[dim];
        }
        return s;
    }

    /// <summary>Starts a new visited generation and returns its tag.</summary>
    public ushort NextTag()
    {
        Tag++;
        if (Tag == 0)
        {
            Array.Clear(Visited);
            Tag = 1;
        }
        return Tag;
    }
}
