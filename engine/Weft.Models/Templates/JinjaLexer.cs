using System.Globalization;
using System.Text;

namespace Weft.Models.Templates;

/// <summary>A template syntax or evaluation error, with the line of the template it concerns.</summary>
public sealed class TemplateException(string message) : Exception(message);

internal enum TokKind { Text, ExprOpen, ExprClose, StmtOpen, StmtClose, Name, String, Int, Float, Op, End }

internal readonly record struct Tok(TokKind Kind, string Value, int Line);

/// <summary>
/// Splits a Jinja template into text and tag tokens, applying whitespace control (<c>{%- -%}</c>, <c>{{- -}}</c>) and the
/// <c>trim_blocks</c> / <c>lstrip_blocks</c> options that Hugging Face's chat-template environment turns on.
/// </summary>
internal static class JinjaLexer
{
    public static List<Tok> Lex(string src, bool trimBlocks, bool lstripBlocks)
    {
        var toks = new List<Tok>();
        int i = 0, line = 1;
        var text = new StringBuilder();
        bool trimNextText = false; // set by "-%}"/"-}}"/"-#}": strip leading whitespace of the following text
        while (i < src.Length)
        {
            int open = FindOpen(src, i);
            string chunk = open < 0 ? src[i..] : src[i..open];
            text.Append(chunk);
            if (open < 0)
            {
                FlushText(toks, text, ref trimNextText, false, line);
                break;
            }
            char kind = src[open + 1];
            bool minusLeft = open + 2 < src.Length && src[open + 2] == '-';
            bool plusLeft = open + 2 < src.Length && src[open + 2] == '+';
            // lstrip_blocks: whitespace from the start of the line to a block/comment tag is removed.
            if (lstripBlocks && kind != '{' && !plusLeft)
            {
                int k = text.Length;
                while (k > 0 && (text[k - 1] == ' ' || text[k - 1] == '\t'))
                {
                    k--;
                }
                if (k == 0 ? IsLineStartBefore(toks) : text[k - 1] == '\n')
                {
                    text.Length = k;
                }
            }
            FlushText(toks, text, ref trimNextText, minusLeft, line);
            line += Count(chunk, '\n');
            int p = open + 2 + (minusLeft || plusLeft ? 1 : 0);
            if (kind == '#')
            {
                int end = src.IndexOf("#}", p, StringComparison.Ordinal);
                if (end < 0)
                {
                    throw new TemplateException($"line {line}: unclosed comment");
                }
                trimNextText = src[end - 1] == '-';
                line += Count(src.AsSpan(p, end - p), '\n');
                i = end + 2;
                if (trimBlocks && !trimNextText && i < src.Length && src[i] == '\n')
                {
                    i++;
                }
                continue;
            }
            if (kind == '%' && IsRawStart(src, p, out int rawBodyStart))
            {
                int endRaw = FindEndRaw(src, rawBodyStart, out int afterEndRaw, out bool rawTrimRight);
                if (endRaw < 0)
                {
                    throw new TemplateException($"line {line}: unclosed raw block");
                }
                toks.Add(new Tok(TokKind.Text, src[rawBodyStart..endRaw], line));
                line += Count(src.AsSpan(p, afterEndRaw - p), '\n');
                i = afterEndRaw;
                trimNextText = rawTrimRight;
                continue;
            }
            toks.Add(new Tok(kind == '{' ? TokKind.ExprOpen : TokKind.StmtOpen, "", line));
            string close = kind == '{' ? "}}" : "%}";
            i = LexTag(src, p, close, toks, ref line, out bool minusRight);
            toks.Add(new Tok(kind == '{' ? TokKind.ExprClose : TokKind.StmtClose, "", line));
            trimNextText = minusRight;
            if (kind == '%' && trimBlocks && !minusRight && i < src.Length && src[i] == '\n')
            {
                i++;
                line++;
            }
        }
        toks.Add(new Tok(TokKind.End, "", line));
        return toks;
    }

    private static bool IsLineStartBefore(List<Tok> toks) => toks.Count == 0 || (toks[^1].Kind == TokKind.Text && toks[^1].Value.EndsWith('\n'));

    private static int Count(ReadOnlySpan<char> s, char c)
    {
        int n = 0;
        foreach (char ch in s)
        {
            if (ch == c)
            {
                n++;
            }
        }
        return n;
    }

    private static int FindOpen(string s, int from)
    {
        for (int j = from; j < s.Length - 1; j++)
        {
            if (s[j] == '{' && (s[j + 1] == '{' || s[j + 1] == '%' || s[j + 1] == '#'))
            {
                return j;
            }
        }
        return -1;
    }

    private static void FlushText(List<Tok> toks, StringBuilder text, ref bool trimLeft, bool trimRight, int line)
    {
        string t = text.ToString();
        text.Clear();
        if (trimLeft)
        {
            t = t.TrimStart();
            trimLeft = false;
        }
        if (trimRight)
        {
            t = t.TrimEnd();
        }
        if (t.Length > 0)
        {
            toks.Add(new Tok(TokKind.Text, t, line));
        }
    }

    private static bool IsRawStart(string s, int p, out int bodyStart)
    {
        int j = p;
        while (j < s.Length && char.IsWhiteSpace(s[j])) j++;
        bodyStart = -1;
        if (string.CompareOrdinal(s, j, "raw", 0, 3) != 0) return false;
        j += 3;
        while (j < s.Length && char.IsWhiteSpace(s[j])) j++;
        if (j < s.Length && s[j] == '-') j++;
        if (string.CompareOrdinal(s, j, "%}", 0, 2) != 0) return false;
        bodyStart = j + 2;
        return true;
    }

    private static int FindEndRaw(string s, int from, out int after, out bool trimRight)
    {
        int j = from;
        while ((j = s.IndexOf("{%", j, StringComparison.Ordinal)) >= 0)
        {
            int k = j + 2;
            if (k < s.Length && s[k] == '-') k++;
            while (k < s.Length && char.IsWhiteSpace(s[k])) k++;
            if (string.CompareOrdinal(s, k, "endraw", 0, 6) == 0)
            {
                k += 6;
                while (k < s.Length && char.IsWhiteSpace(s[k])) k++;
                trimRight = k < s.Length && s[k] == '-';
                if (trimRight) k++;
                after = k + 2;
                return j;
            }
            j += 2;
        }
        after = -1;
        trimRight = false;
        return -1;
    }

    private static readonly string[] s_ops =
        ["**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]", "{", "}", ".", ",", ":", "|"];

    private static int LexTag(string s, int p, string close, List<Tok> toks, ref int line, out bool minusRight)
    {
        while (true)
        {
            if (p >= s.Length)
            {
                throw new TemplateException($"line {line}: tag not closed with '{close}'");
            }
            char c = s[p];
            if (c == '\n')
            {
                line++;
                p++;
                continue;
            }
            if (char.IsWhiteSpace(c))
            {
                p++;
                continue;
            }
            if ((c == '-' || c == '+') && string.CompareOrdinal(s, p + 1, close, 0, 2) == 0)
            {
                minusRight = c == '-';
                return p + 3;
            }
            if (string.CompareOrdinal(s, p, close, 0, 2) == 0)
            {
                minusRight = false;
                return p + 2;
            }
            if (c == '"' || c == '\'')
            {
                var sb = new StringBuilder();
                int q = p + 1;
                while (q < s.Length && s[q] != c)
                {
                    if (s[q] == '\\' && q + 1 < s.Length)
                    {
                        q++;
                        sb.Append(s[q] switch { 'n' => '\n', 't' => '\t', 'r' => '\r', '0' => '\0', _ => s[q] });
                    }
                    else
                    {
                        if (s[q] == '\n') line++;
                        sb.Append(s[q]);
                    }
                    q++;
                }
                if (q >= s.Length)
                {
                    throw new TemplateException($"line {line}: unterminated string literal");
                }
                toks.Add(new Tok(TokKind.String, sb.ToString(), line));
                p = q + 1;
                continue;
            }
            if (char.IsDigit(c))
            {
                int q = p;
                while (q < s.Length && (char.IsDigit(s[q]) || s[q] == '_')) q++;
                bool isFloat = false;
                if (q + 1 < s.Length && s[q] == '.' && char.IsDigit(s[q + 1]))
                {
                    isFloat = true;
                    q++;
                    while (q < s.Length && char.IsDigit(s[q])) q++;
                }
                if (q < s.Length && (s[q] == 'e' || s[q] == 'E'))
                {
                    int r = q + 1;
                    if (r < s.Length && (s[r] == '+' || s[r] == '-')) r++;
                    if (r < s.Length && char.IsDigit(s[r]))
                    {
                        isFloat = true;
                        q = r;
                        while (q < s.Length && char.IsDigit(s[q])) q++;
                    }
                }
                toks.Add(new Tok(isFloat ? TokKind.Float : TokKind.Int, s[p..q].Replace("_", ""), line));
                p = q;
                continue;
            }
            if (char.IsLetter(c) || c == '_')
            {
                int q = p;
                while (q < s.Length && (char.IsLetterOrDigit(s[q]) || s[q] == '_')) q++;
                toks.Add(new Tok(TokKind.Name, s[p..q], line));
                p = q;
                continue;
            }
            string? op = null;
            foreach (string o in s_ops)
            {
                if (string.CompareOrdinal(s, p, o, 0, o.Length) == 0)
                {
                    op = o;
                    break;
                }
            }
            if (op is null)
            {
                throw new TemplateException($"line {line}: unexpected character '{c}' in tag");
            }
            toks.Add(new Tok(TokKind.Op, op, line));
            p += op.Length;
        }
    }

    internal static string FormatFloat(double d) =>
        double.IsInteger(d) && Math.Abs(d) < 1e16 ? d.ToString("0.0", CultureInfo.InvariantCulture) : d.ToString("R", CultureInfo.InvariantCulture);
}
