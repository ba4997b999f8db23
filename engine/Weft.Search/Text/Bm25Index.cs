namespace Weft.Search.Text;

/// <summary>
/// Okapi BM25 lexical index over documents numbered 0..n-1: <c>score = Σ idf(t) · tf·(k1+1) / (tf + k1·(1 - b + b·len/avglen))</c>
/// with <c>idf(t) = ln(1 + (N - df + 0.5) / (df + 0.5))</c> (the non-negative Lucene form).
/// </summary>
public sealed class Bm25Index
{
    private readonly Dictionary<string, List<(int Doc, int Tf)>> _postings = new(StringComparer.Ordinal);
    private readonly List<int> _lengths = new();
    private long _totalLength;

    /// <summary>Creates an empty index.</summary>
    /// <exception cref="ArgumentOutOfRangeException">k1 negative or b outside 0..1.</exception>
    public Bm25Index(double k1 = 1.2, double b = 0.75)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k1);
        if (b is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(b), b, "b must be in 0..1");
        }
        K1 = k1;
        B = b;
    }

    /// <summary>Term-frequency saturation.</summary>
    public double K1 { get; }
    /// <summary>Length normalisation.</summary>
    public double B { get; }
    /// <summary>Documents added.</summary>
    public int Count => _lengths.Count;

    /// <summary>Adds the next document (its id is the current <see cref="Count"/>).</summary>
    /// <returns>The document id.</returns>
    public int Add(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int doc = _lengths.Count;
        List<string> terms = TextAnalyzer.Terms(text);
        foreach (IGrouping<string, string> g in terms.GroupBy(t => t, StringComparer.Ordinal))
        {
            if (!_postings.TryGetValue(g.Key, out var list))
            {
                _postings[g.Key] = list = new List<(int, int)>();
            }
            list.Add((doc, g.Count()));
        }
        _lengths.Add(terms.Count);
        _totalLength += terms.Count;
        return doc;
    }

    /// <summary>The <paramref name="k"/> best documents for <paramref name="query"/>, best first; documents without any query term are not returned.</summary>
    public List<(int Doc, double Score)> Search(string query, int k, Func<int, bool>? filter = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        int n = _lengths.Count;
        if (n == 0)
        {
            return [];
        }
        double avg = Math.Max(1e-9, (double)_totalLength / n);
        var scores = new Dictionary<int, double>();
        foreach (string term in TextAnalyzer.Terms(query).Distinct(StringComparer.Ordinal))
        {
            if (!_postings.TryGetValue(term, out var list))
            {
                continue;
            }
            double idf = Math.Log(1 + (n - list.Count + 0.5) / (list.Count + 0.5));
            foreach ((int doc, int tf) in list)
            {
                if (filter is not null && !filter(doc))
                {
                    continue;
                }
                double norm = tf + K1 * (1 - B + B * _lengths[doc] / avg);
                scores[doc] = scores.GetValueOrDefault(doc) + idf * tf * (K1 + 1) / norm;
            }
        }
        return scores.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key).Take(k).Select(kv => (kv.Key, kv.Value)).ToList();
    }
}
