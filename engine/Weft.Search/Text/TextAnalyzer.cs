namespace Weft.Search.Text;

/// <summary>
/// Lexical terms for BM25 and the hashed embedder: lower-cased runs of letters and digits with a light English
/// suffix stripping (plural -s/-es/-ies, -ing, -ed), so "installed", "installs" and "installing" meet "install".
/// </summary>
public static class TextAnalyzer
{
    private static readonly HashSet<string> s_stop = new(StringComparer.Ordinal)
    {
        "a", "an", "and", "are", "as", "at", "be", "by", "do", "does", "for", "from", "how", "i", "in", "is", "it",
        "of", "on", "or", "that", "the", "this", "to", "was", "what", "when", "where", "which", "who", "why", "with",
    };

    /// <summary>Terms of <paramref name="text"/> in order; English function words are dropped when <paramref name="dropStopWords"/>.</summary>
    public static List<string> Terms(string text, bool dropStopWords = true)
    {
        var terms = new List<string>();
        int i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && !char.IsLetterOrDigit(text[i]))
            {
                i++;
            }
            int s = i;
            while (i < text.Length && char.IsLetterOrDigit(text[i]))
            {
                i++;
            }
            if (i > s)
            {
                string t = Stem(text[s..i].ToLowerInvariant());
                if (!dropStopWords || !s_stop.Contains(t))
                {
                    terms.Add(t);
                }
            }
        }
        return terms;
    }

    /// <summary>Light suffix stripping, then a final silent "e" ("save", "saves", "saved", "saving" all give "sav"); words of three letters or fewer are kept.</summary>
    public static string Stem(string w)
    {
        if (w.Length <= 3 || !char.IsLetter(w[^1]))
        {
            return w;
        }
        string r = StripSuffix(w);
        return r.Length > 3 && r[^1] == 'e' ? r[..^1] : r;
    }

    private static string StripSuffix(string w)
    {
        if (w.Length <= 4)
        {
            return w.Length == 4 && w[^1] == 's' && w[^2] is not ('s' or 'u' or 'i') ? w[..^1] : w;
        }
        if (w.EndsWith("ies", StringComparison.Ordinal))
        {
            return w[..^3] + "y";
        }
        if (w.EndsWith("ing", StringComparison.Ordinal) && w.Length > 5)
        {
            return Undouble(w[..^3]);
        }
        if (w.EndsWith("ed", StringComparison.Ordinal))
        {
            return Undouble(w[..^2]);
        }
        if (w.EndsWith("sses", StringComparison.Ordinal) || w.EndsWith("xes", StringComparison.Ordinal) || w.EndsWith("ches", StringComparison.Ordinal) || w.EndsWith("shes", StringComparison.Ordinal))
        {
            return w[..^2];
        }
        if (w[^1] == 's' && w[^2] != 's' && w[^2] != 'u' && w[^2] != 'i')
        {
            return w[..^1];
        }
        return w;
    }

    // "running" -> "runn" -> "run"; keep "ll"/"ss" endings ("install", "pass").
    private static string Undouble(string w) =>
        w.Length > 3 && w[^1] == w[^2] && w[^1] is not ('l' or 's' or 'z') ? w[..^1] : w;
}
