using System.Runtime.CompilerServices;

namespace Weft.Search.Vectors;

/// <summary>
/// Bounded top-k selection over rows of distances: a max-heap on (distance, id) whose root is the worst kept
/// candidate, so a candidate enters when it beats the root. Ties go to the lower id, as in <see cref="ExactIndex"/>.
/// </summary>
internal static class TopK
{
    /// <summary>
    /// Offers <c>row[i]</c> as candidate <c>firstId + i</c> for every i that <paramref name="filter"/> allows (the filter is
    /// only asked about candidates that would enter).
    /// </summary>
    public static void Scan<TFilter>(ReadOnlySpan<float> row, int firstId, TFilter filter, Span<float> heapD, Span<int> heapI, ref int count)
        where TFilter : struct, ILabelFilter
    {
        int k = heapD.Length;
        int n = count;
        float worst = n == k ? Worst(heapD) : float.PositiveInfinity;
        for (int i = 0; i < row.Length; i++)
        {
            float d = row[i];
            // Ids only grow along a scan, so an equal distance never beats the root; NaN never enters a full heap.
            if (n == k ? d < worst : true)
            {
                int id = firstId + i;
                if (!filter.Allows(id))
                {
                    continue;
                }
                if (n < k)
                {
                    heapD[n] = d;
                    heapI[n] = id;
                    SiftUp(heapD, heapI, n);
                    n++;
                }
                else
                {
                    heapD[0] = d;
                    heapI[0] = id;
                    SiftDown(heapD, heapI, 0, n);
                }
                if (n == k)
                {
                    worst = Worst(heapD);
                }
            }
        }
        count = n;
    }

    /// <summary>The kept candidates, closest first (ties by lower id).</summary>
    public static SearchHit[] Drain(Span<float> heapD, Span<int> heapI, int count)
    {
        var hits = new SearchHit[count];
        for (int n = count; n > 0; n--)
        {
            hits[n - 1] = new SearchHit(heapI[0], heapD[0]);
            heapD[0] = heapD[n - 1];
            heapI[0] = heapI[n - 1];
            SiftDown(heapD, heapI, 0, n - 1);
        }
        return hits;
    }

    // The bar a candidate must beat; a NaN root (NaN ranks last) is beaten by any number.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Worst(Span<float> heapD) => float.IsNaN(heapD[0]) ? float.PositiveInfinity : heapD[0];

    // True when (d1, i1) ranks after (d2, i2).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool After(float d1, int i1, float d2, int i2) => d1 > d2 || (d1 == d2 && i1 > i2) || (float.IsNaN(d1) && !float.IsNaN(d2));

    private static void SiftUp(Span<float> d, Span<int> id, int i)
    {
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (!After(d[i], id[i], d[parent], id[parent]))
            {
                break;
            }
            (d[i], d[parent]) = (d[parent], d[i]);
            (id[i], id[parent]) = (id[parent], id[i]);
            i = parent;
        }
    }

    private static void SiftDown(Span<float> d, Span<int> id, int i, int n)
    {
        while (true)
        {
            int l = 2 * i + 1, r = l + 1, top = i;
            if (l < n && After(d[l], id[l], d[top], id[top]))
            {
                top = l;
            }
            if (r < n && After(d[r], id[r], d[top], id[top]))
            {
                top = r;
            }
            if (top == i)
            {
                return;
            }
            (d[i], d[top]) = (d[top], d[i]);
            (id[i], id[top]) = (id[top], id[i]);
            i = top;
        }
    }
}
