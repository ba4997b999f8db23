using System.Globalization;

namespace Weft.Models.Templates;

/// <summary>Python string, list and dict methods that templates call (<c>message.content.strip()</c>).</summary>
internal static class JinjaMethods
{
    private static TemplateException Err(int line, string msg) => new($"line {line}: {msg}");

    private static string Arg(List<object?> a, int i, int line, string method) =>
        i < a.Count && a[i] is string s ? s : throw Err(line, $"{method}() needs a string argument");

    private static string? OptChars(List<object?> a) => a.Count > 0 && a[0] is string s ? s : null;

    public static JinjaCallable? StringMethod(string s, string name, int line) => name switch
    {
        "strip" => new(name, (a, _) => OptChars(a) is string c ? s.Trim(c.ToCharArray()) : s.Trim()),
        "lstrip" => new(name, (a, _) => OptChars(a) is string c ? s.TrimStart(c.ToCharArray()) : s.TrimStart()),
        "rstrip" => new(name, (a, _) => OptChars(a) is string c ? s.TrimEnd(c.ToCharArray()) : s.TrimEnd()),
        "upper" => new(name, (_, _) => s.ToUpperInvariant()),
        "lower" => new(name, (_, _) => s.ToLowerInvariant()),
        "title" => new(name, (_, _) => JinjaFilters.Title(s)),
        "capitalize" => new(name, (_, _) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant()),
        "startswith" => new(name, (a, _) => a.Count > 0 && a[0] is List<object?> l ? l.Any(p => s.StartsWith(JinjaValues.Str(p), StringComparison.Ordinal)) : s.StartsWith(Arg(a, 0, line, name), StringComparison.Ordinal)),
        "endswith" => new(name, (a, _) => a.Count > 0 && a[0] is List<object?> l ? l.Any(p => s.EndsWith(JinjaValues.Str(p), StringComparison.Ordinal)) : s.EndsWith(Arg(a, 0, line, name), StringComparison.Ordinal)),
        "split" => new(name, (a, _) =>
        {
            if (a.Count == 0 || a[0] is null)
            {
                return s.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(x => (object?)x).ToList();
            }
            string sep = Arg(a, 0, line, name);
            if (sep.Length == 0) throw Err(line, "split() separator is empty");
            int max = a.Count > 1 ? (int)JinjaOps.ToLong(a[1], line) : -1;
            return (max < 0 ? s.Split(sep) : s.Split(sep, max + 1)).Select(x => (object?)x).ToList();
        }),
        "rsplit" => new(name, (a, _) =>
        {
            string sep = Arg(a, 0, line, name);
            int max = a.Count > 1 ? (int)JinjaOps.ToLong(a[1], line) : -1;
            var parts = s.Split(sep).ToList();
            if (max >= 0 && parts.Count > max + 1)
            {
                int head = parts.Count - max;
                parts = new[] { string.Join(sep, parts.Take(head)) }.Concat(parts.Skip(head)).ToList();
            }
            return parts.Select(x => (object?)x).ToList();
        }),
        "replace" => new(name, (a, _) =>
        {
            string from = Arg(a, 0, line, name), to = Arg(a, 1, line, name);
            return from.Length == 0 ? s : s.Replace(from, to, StringComparison.Ordinal);
        }),
        "find" => new(name, (a, _) => (long)s.IndexOf(Arg(a, 0, line, name), StringComparison.Ordinal)),
        "count" => new(name, (a, _) => { string sub = Arg(a, 0, line, name); return sub.Length == 0 ? (long)s.Length + 1 : (long)((s.Length - s.Replace(sub, "", StringComparison.Ordinal).Length) / sub.Length); }),
        "join" => new(name, (a, _) => string.Join(s, JinjaTemplate.Iterate(a.Count > 0 ? a[0] : null, line).Select(JinjaValues.Str))),
        "format" => new(name, (a, k) => PyFormat(s, a, k, line)),
        "isdigit" => new(name, (_, _) => s.Length > 0 && s.All(char.IsDigit)),
        "isalpha" => new(name, (_, _) => s.Length > 0 && s.All(char.IsLetter)),
        "isspace" => new(name, (_, _) => s.Length > 0 && s.All(char.IsWhiteSpace)),
        "islower" => new(name, (_, _) => s.Any(char.IsLetter) && !s.Any(char.IsUpper)),
        "isupper" => new(name, (_, _) => s.Any(char.IsLetter) && !s.Any(char.IsLower)),
        _ => null,
    };

    public static JinjaCallable? ListMethod(List<object?> l, string name, int line) => name switch
    {
        "append" => new(name, (a, _) => { l.Add(a.Count > 0 ? a[0] : null); return null; }),
        "extend" => new(name, (a, _) => { l.AddRange(JinjaTemplate.Iterate(a.Count > 0 ? a[0] : null, line)); return null; }),
        "pop" => new(name, (a, _) =>
        {
            if (l.Count == 0) throw Err(line, "pop from empty list");
            int i = a.Count > 0 ? (int)JinjaOps.ToLong(a[0], line) : l.Count - 1;
            if (i < 0) i += l.Count;
            if (i < 0 || i >= l.Count) throw Err(line, "pop index out of range");
            object? v = l[i];
            l.RemoveAt(i);
            return v;
        }),
        "index" => new(name, (a, _) => { int i = l.FindIndex(x => JinjaOps.Equal(x, a.Count > 0 ? a[0] : null)); return i < 0 ? throw Err(line, "value not in list") : (long)i; }),
        "count" => new(name, (a, _) => (long)l.Count(x => JinjaOps.Equal(x, a.Count > 0 ? a[0] : null))),
        _ => null,
    };

    public static JinjaCallable? DictMethod(Dictionary<string, object?> d, string name, int line) => name switch
    {
        "items" => new(name, (_, _) => d.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList()),
        "keys" => new(name, (_, _) => d.Keys.Select(k => (object?)k).ToList()),
        "values" => new(name, (_, _) => d.Values.ToList()),
        "get" => new(name, (a, _) => a.Count > 0 && d.TryGetValue(JinjaValues.Str(a[0]), out object? v) ? v : a.Count > 1 ? a[1] : null),
        "update" => new(name, (a, k) =>
        {
            foreach (object? x in a) if (x is Dictionary<string, object?> src) foreach (KeyValuePair<string, object?> kv in src) d[kv.Key] = kv.Value;
            foreach (KeyValuePair<string, object?> kv in k) d[kv.Key] = kv.Value;
            return null;
        }),
        "pop" => new(name, (a, _) =>
        {
            string key = a.Count > 0 ? JinjaValues.Str(a[0]) : throw Err(line, "pop() needs a key");
            if (d.Remove(key, out object? v)) return v;
            return a.Count > 1 ? a[1] : throw Err(line, $"key '{key}' not found");
        }),
        _ => null,
    };

    private static string PyFormat(string fmt, List<object?> a, Dictionary<string, object?> k, int line)
    {
        var sb = new System.Text.StringBuilder();
        int auto = 0;
        for (int i = 0; i < fmt.Length; i++)
        {
            char c = fmt[i];
            if (c == '{' && i + 1 < fmt.Length && fmt[i + 1] == '{') { sb.Append('{'); i++; continue; }
            if (c == '}' && i + 1 < fmt.Length && fmt[i + 1] == '}') { sb.Append('}'); i++; continue; }
            if (c != '{') { sb.Append(c); continue; }
            int end = fmt.IndexOf('}', i);
            if (end < 0) throw Err(line, "unmatched '{' in format string");
            string field = fmt[(i + 1)..end];
            int colon = field.IndexOf(':');
            if (colon >= 0) field = field[..colon];
            object? v = field.Length == 0 ? (auto < a.Count ? a[auto++] : throw Err(line, "format() has too few arguments"))
                : int.TryParse(field, NumberStyles.Integer, CultureInfo.InvariantCulture, out int idx) ? (idx < a.Count ? a[idx] : throw Err(line, "format() index out of range"))
                : k.TryGetValue(field, out object? kv) ? kv : throw Err(line, $"format() has no argument '{field}'");
            sb.Append(JinjaValues.Str(v));
            i = end;
        }
        return sb.ToString();
    }
}
