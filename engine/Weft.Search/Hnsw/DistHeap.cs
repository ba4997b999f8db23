using System.Runtime.CompilerServices;

namespace Weft.Search.Hnsw;

/// <summary>
/// Binary heap of (distance, id) pairs: a max-heap when <c>max</c> is true (the result set, worst on top),
/// else a min-heap (the candidate queue, best on top). Arrays are reused across searches.
/// </summary>
internal sealed class DistHeap(bool max)
{
    private float[] _d = new float[64];
    private int[] _id = new int[64];
    private readonly bool _max = max;

    public int Count;

    public float TopDistance => _d[0];
    public int TopId => _id[0];

    public void Clear() => Count = 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Above(float a, float b) => _max ? a > b : a < b;

    public void Push(float d, int id)
    {
        if (Count == _d.Length)
        {
            Array.Resize(ref _d, Count * 2);
            Array.Resize(ref _id, Count * 2);
        }
        int i = Count++;
        while (i > 0)
        {
            int p = (i - 1) >> 1;
            if (!Above(d, _d[p]))
            {
                break;
            }
            _d[i] = _d[p];
            _id[i] = _id[p];
            i = p;
        }
        _d[i] = d;
        _id[i] = id;
    }

    public void Pop()
    {
        int n = --Count;
        if (n == 0)
        {
            return;
        }
        float d = _d[n];
        int id = _id[n];
        int i = 0;
        while (true)
        {
            int c = 2 * i + 1;
            if (c >= n)
            {
                break;
            }
            if (c + 1 < n && Above(_d[c + 1], _d[c]))
            {
                c++;
            }
            if (!Above(_d[c], d))
            {
                break;
            }
            _d[i] = _d[c];
            _id[i] = _id[c];
            i = c;
        }
        _d[i] = d;
        _id[i] = id;
    }

    /// <summary>Empties the heap into <paramref name="dst"/> in ascending distance order (max-heap) or descending (min-heap).</summary>
    public void DrainSorted(List<(float D, int Id)> dst)
    {
        dst.Clear();
        while (Count > 0)
        {
            dst.Add((_d[0], _id[0]));
            Pop();
        }
        if (_max)
        {
            dst.Reverse();
        }
    }
}
