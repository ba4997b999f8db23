using System.Text;

namespace Weft.Flows.Evaluation;

/// <summary>ROUGE scores: recall, precision and F1 (β = 1).</summary>
/// <param name="Recall">Overlap / reference units.</param>
/// <param name="Precision">Overlap / candidate units.</param>
/// <param name="F1">Harmonic mean (0 when both are 0).</param>
public readonly record struct RougeScore(double Recall, double Precision, double F1);

/// <summary>Reference-based text metrics: exact match, token F1 (SQuAD), BLEU (Papineni et al. 2002), ROUGE-N and ROUGE-L (Lin 2004), cosine similarity.</summary>
public static class TextMetrics
{
    /// <summary>SQuAD answer normalization: lower case, punctuation and the articles a/an/the removed, whitespace collapsed.</summary>
    public static string NormalizeAnswer(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char ch in s.ToLowerInvariant())
        {
            if (!char.IsPunctuation(ch) && !char.IsSymbol(ch))
            {
                sb.Append(ch);
            }
        }
        return string.Join(' ', sb.ToString().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Where(w => w is not ("a" or "an" or "the")));
    }

    /// <summary>1 when the (normalized, if asked) texts are equal, else 0.</summary>
    public static double ExactMatch(string prediction, string reference, bool normalize = true) =>
        (normalize ? NormalizeAnswer(prediction) == NormalizeAnswer(reference) : prediction == reference) ? 1 : 0;

    /// <summary>SQuAD token F1 over normalized whitespace tokens (multiset overlap); 1 when both are empty, 0 when one is.</summary>
    public static double TokenF1(string prediction, string reference)
    {
        string[] p = NormalizeAnswer(prediction).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string[] r = NormalizeAnswer(reference).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (p.Length == 0 || r.Length == 0)
        {
            return p.Length == r.Length ? 1 : 0;
        }
        int same = Overlap(Counts(p.Select(x => x)), Counts(r.Select(x => x)));
        if (same == 0)
        {
            return 0;
        }
        double prec = (double)same / p.Length, rec = (double)same / r.Length;
        return 2 * prec * rec / (prec + rec);
    }

    /// <summary>Lower-case word tokens (runs of letters and digits) used by ROUGE.</summary>
    public static string[] RougeTokens(string s)
    {
        var tokens = new List<string>();
        var sb = new StringBuilder();
        foreach (char ch in s.ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(ch))
            {
                sb.Append(ch);
            }
            else if (sb.Length > 0)
            {
                tokens.Add(sb.ToString());
                sb.Clear();
            }
        }
        if (sb.Length > 0)
        {
            tokens.Add(sb.ToString());
        }
        return tokens.ToArray();
    }

    /// <summary>ROUGE-N: clipped n-gram overlap between candidate and reference tokens.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> &lt; 1.</exception>
    public static RougeScore RougeN(IReadOnlyList<string> candidate, IReadOnlyList<string> reference, int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        Dictionary<string, int> c = Counts(NGrams(candidate, n)), r = Counts(NGrams(reference, n));
        int overlap = Overlap(c, r);
        return Score(overlap, Math.Max(0, reference.Count - n + 1), Math.Max(0, candidate.Count - n + 1));
    }

    /// <summary>ROUGE-L: longest common subsequence of candidate and reference tokens.</summary>
    public static RougeScore RougeL(IReadOnlyList<string> candidate, IReadOnlyList<string> reference) =>
        Score(Lcs(candidate, reference), reference.Count, candidate.Count);

    /// <summary>Length of the longest common subsequence.</summary>
    public static int Lcs(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        var prev = new int[b.Count + 1];
        var cur = new int[b.Count + 1];
        for (int i = 1; i <= a.Count; i++)
        {
            for (int j = 1; j <= b.Count; j++)
            {
                cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : Math.Max(prev[j], cur[j - 1]);
            }
            (prev, cur) = (cur, prev);
        }
        return prev[b.Count];
    }

    /// <summary>
    /// Sentence BLEU of whitespace-token <paramref name="candidate"/> against one or more references: geometric mean
    /// of clipped n-gram precisions (n = 1..<paramref name="maxN"/>, uniform weights) times the brevity penalty
    /// exp(1 − r/c) when c &lt; r, r being the reference length closest to c (the shorter on ties). Without smoothing a
    /// zero precision gives 0; <paramref name="smooth"/> adds one to numerator and denominator for n &gt; 1 (Lin and Och 2004).
    /// </summary>
    public static double Bleu(IReadOnlyList<string> candidate, IReadOnlyList<IReadOnlyList<string>> references, int maxN = 4, bool smooth = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxN, 1);
        if (references.Count == 0)
        {
            throw new ArgumentException("BLEU needs at least one reference.", nameof(references));
        }
        if (candidate.Count == 0)
        {
            return 0;
        }
        double logSum = 0;
        for (int n = 1; n <= maxN; n++)
        {
            (int num, int den) = ModifiedPrecision(candidate, references, n);
            if (smooth && n > 1)
            {
                num++;
                den++;
            }
            if (num == 0 || den == 0)
            {
                return 0;
            }
            logSum += Math.Log((double)num / den) / maxN;
        }
        int c = candidate.Count;
        int r = references.Select(x => x.Count).OrderBy(len => Math.Abs(len - c)).ThenBy(len => len).First();
        double bp = c > r ? 1 : Math.Exp(1 - (double)r / c);
        return bp * Math.Exp(logSum);
    }

    /// <summary>Clipped n-gram matches and candidate n-gram count (BLEU's modified precision).</summary>
    public static (int Matches, int Total) ModifiedPrecision(IReadOnlyList<string> candidate, IReadOnlyList<IReadOnlyList<string>> references, int n)
    {
        Dictionary<string, int> c = Counts(NGrams(candidate, n));
        var maxRef = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (IReadOnlyList<string> reference in references)
        {
            foreach ((string g, int k) in Counts(NGrams(reference, n)))
            {
                maxRef[g] = Math.Max(maxRef.GetValueOrDefault(g), k);
            }
        }
        int matches = c.Sum(kv => Math.Min(kv.Value, maxRef.GetValueOrDefault(kv.Key)));
        return (matches, Math.Max(0, candidate.Count - n + 1));
    }

    /// <summary>Cosine similarity of two equal-length vectors (0 when either is all zeros).</summary>
    /// <exception cref="ArgumentException">Lengths differ.</exception>
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"Vectors have different lengths ({a.Length} and {b.Length}).");
        }
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.Sqrt(na * nb);
    }

    private static RougeScore Score(int overlap, int refCount, int candCount)
    {
        double r = refCount == 0 ? 0 : (double)overlap / refCount;
        double p = candCount == 0 ? 0 : (double)overlap / candCount;
        return new RougeScore(r, p, r + p == 0 ? 0 : 2 * r * p / (r + p));
    }

    private static IEnumerable<string> NGrams(IReadOnlyList<string> tokens, int n)
    {
        for (int i = 0; i + n <= tokens.Count; i++)
        {
            yield return string.Join('\u0001', Enumerable.Range(i, n).Select(k => tokens[k]));
        }
    }

    private static Dictionary<string, int> Counts(IEnumerable<string> items)
    {
        var d = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string s in items)
        {
            d[s] = d.GetValueOrDefault(s) + 1;
        }
        return d;
    }

    private static int Overlap(Dictionary<string, int> a, Dictionary<string, int> b) => a.Sum(kv => Math.Min(kv.Value, b.GetValueOrDefault(kv.Key)));
}
