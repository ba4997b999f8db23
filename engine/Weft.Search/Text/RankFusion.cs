namespace Weft.Search.Text;

/// <summary>Reciprocal rank fusion (Cormack et al. 2009): <c>score(d) = Σ_lists 1 / (k + rank_list(d))</c>, ranks from 1.</summary>
public static class RankFusion
{
    /// <summary>Fuses ranked lists of ids (best first) into one ranking, best first; ties keep the smaller id first.</summary>
    /// <param name="lists">Ranked lists; an id may be missing from some.</param>
    /// <param name="k">Damping constant (60 in the paper).</param>
    public static List<(int Id, double Score)> Reciprocal(IEnumerable<IReadOnlyList<int>> lists, double k = 60)
    {
        ArgumentNullException.ThrowIfNull(lists);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        var scores = new Dictionary<int, double>();
        foreach (IReadOnlyList<int> list in lists)
        {
            for (int r = 0; r < list.Count; r++)
            {
                scores[list[r]] = scores.GetValueOrDefault(list[r]) + 1.0 / (k + r + 1);
            }
        }
        return scores.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key).Select(kv => (kv.Key, kv.Value)).ToList();
    }
}
