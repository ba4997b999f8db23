using System.Globalization;
using System.Text;

namespace Weft.Models.Templates;

/// <summary>Jinja filters and tests.</summary>
internal static class JinjaFilters
{
    private static TemplateException Err(int line, string msg) => new($"line {line}: {msg}");

    internal static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool start = true;
        foreach (char c in s)
        {
            sb.Append(start ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c));
            start = !char.IsLetterOrDigit(c);
        }
        return sb.ToString();
    }

    private static object? Arg(List<object?> a, Dictionary<string, object?> k, int i, string name, object? def = null) =>
        i < a.Count ? a[i] : k.TryGetValue(name, out object? v) ? v : def;

    private static object? AttrPath(object? item, string path, int line)
    {
        object? v = item;
        foreach (string part in path.Split('.'))
        {
            v = long.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out long idx) && v is List<object?>
                ? JinjaTemplate.GetItem(v, idx, line)
                : v is Undefined or null ? new Undefined(part) : JinjaTemplate.GetAttr(v, part, line);
        }
        return v;
    }

    public static object? Apply(string name, object? v, List<object?> a, Dictionary<string, object?> k, int line, JinjaTemplate tpl)
    {
        switch (name)
        {
            case "trim":
                return JinjaValues.Str(v).Trim();
            case "length" or "count":
                return v switch
                {
                    string s => (long)s.EnumerateRunes().Count(),
                    List<object?> l => (long)l.Count,
                    Dictionary<string, object?> d => (long)d.Count,
                    null or Undefined => 0L,
                    _ => throw Err(line, $"{JinjaTemplate.TypeName(v)} has no length"),
                };
            case "upper":
                return JinjaValues.Str(v).ToUpperInvariant();
            case "lower":
                return JinjaValues.Str(v).ToLowerInvariant();
            case "capitalize":
            {
                string s = JinjaValues.Str(v);
                return s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();
            }
            case "title":
                return Title(JinjaValues.Str(v));
            case "string":
                return JinjaValues.Str(v);
            case "safe" or "e" or "escape" when name == "safe":
                return v;
            case "escape" or "e":
                return JinjaValues.Str(v).Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&#34;").Replace("'", "&#39;");
            case "replace":
            {
                string from = JinjaValues.Str(Arg(a, k, 0, "old")), to = JinjaValues.Str(Arg(a, k, 1, "new"));
                string s = JinjaValues.Str(v);
                return from.Length == 0 ? s : s.Replace(from, to, StringComparison.Ordinal);
            }
            case "join":
            {
                string sep = JinjaValues.Str(Arg(a, k, 0, "d", ""));
                object? attr = Arg(a, k, 1, "attribute");
                return string.Join(sep, JinjaTemplate.Iterate(v, line).Select(x => JinjaValues.Str(attr is null ? x : AttrPath(x, JinjaValues.Str(attr), line))));
            }
            case "tojson":
            {
                object? ind = Arg(a, k, 0, "indent");
                return JinjaValues.ToJson(v, ind is null ? null : (int)JinjaOps.ToLong(ind, line), k.TryGetValue("sort_keys", out object? sk) && JinjaValues.Truthy(sk));
            }
            case "default" or "d":
            {
                object? def = Arg(a, k, 0, "default_value", "");
                bool boolean = JinjaValues.Truthy(Arg(a, k, 1, "boolean", false));
                return v is Undefined || (boolean && !JinjaValues.Truthy(v)) ? def : v;
            }
            case "first":
            {
                List<object?> l = JinjaTemplate.Iterate(v, line);
                return l.Count > 0 ? l[0] : new Undefined("first");
            }
            case "last":
            {
                List<object?> l = JinjaTemplate.Iterate(v, line);
                return l.Count > 0 ? l[^1] : new Undefined("last");
            }
            case "list":
                return JinjaTemplate.Iterate(v, line).ToList();
            case "reverse":
                return v is string rs ? new string(rs.Reverse().ToArray()) : Enumerable.Reverse(JinjaTemplate.Iterate(v, line)).ToList();
            case "int":
                return v switch
                {
                    long l => l,
                    double d => (long)d,
                    bool b => b ? 1L : 0L,
                    string s when long.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long p) => p,
                    string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double pd) => (long)pd,
                    _ => Arg(a, k, 0, "default", 0L),
                };
            case "float":
                return v switch
                {
                    long l => (double)l,
                    double d => d,
                    string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double p) => p,
                    _ => Arg(a, k, 0, "default", 0.0),
                };
            case "abs":
                return v switch { long l => (object)Math.Abs(l), double d => Math.Abs(d), _ => throw Err(line, "abs needs a number") };
            case "round":
            {
                double d = v is long l ? l : v is double dd ? dd : throw Err(line, "round needs a number");
                int prec = (int)JinjaOps.ToLong(Arg(a, k, 0, "precision", 0L), line);
                string method = JinjaValues.Str(Arg(a, k, 1, "method", "common"));
                double f = Math.Pow(10, prec);
                return method switch
                {
                    "ceil" => Math.Ceiling(d * f) / f,
                    "floor" => Math.Floor(d * f) / f,
                    _ => Math.Round(d * f, MidpointRounding.AwayFromZero) / f,
                };
            }
            case "items":
                return v is Dictionary<string, object?> di ? di.Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList() : throw Err(line, "items needs a dict");
            case "dictsort":
                return v is Dictionary<string, object?> ds ? ds.OrderBy(kv => kv.Key, StringComparer.OrdinalIgnoreCase).Select(kv => (object?)new List<object?> { kv.Key, kv.Value }).ToList() : throw Err(line, "dictsort needs a dict");
            case "unique":
            {
                var r = new List<object?>();
                foreach (object? x in JinjaTemplate.Iterate(v, line)) if (!r.Any(y => JinjaOps.Equal(x, y))) r.Add(x);
                return r;
            }
            case "sort":
            {
                bool reverse = JinjaValues.Truthy(Arg(a, k, 0, "reverse", false));
                object? attr = Arg(a, k, 2, "attribute");
                var l = JinjaTemplate.Iterate(v, line).ToList();
                Comparison<object?> cmp = (x, y) => JinjaOps.Compare(attr is null ? x : AttrPath(x, JinjaValues.Str(attr), line), attr is null ? y : AttrPath(y, JinjaValues.Str(attr), line), line);
                var sorted = l.Select((x, i) => (x, i)).OrderBy(p => p, Comparer<(object? x, int i)>.Create((p, q) => { int c = cmp(p.x, q.x); return c != 0 ? c : p.i.CompareTo(q.i); })).Select(p => p.x).ToList();
                if (reverse) sorted.Reverse();
                return sorted;
            }
            case "sum":
            {
                object? attr = Arg(a, k, 0, "attribute");
                object? acc = Arg(a, k, 1, "start", 0L);
                foreach (object? x in JinjaTemplate.Iterate(v, line)) acc = JinjaOps.Binary("+", acc, attr is null ? x : AttrPath(x, JinjaValues.Str(attr), line), line);
                return acc;
            }
            case "min" or "max":
            {
                var l = JinjaTemplate.Iterate(v, line);
                if (l.Count == 0) return new Undefined(name);
                object? best = l[0];
                foreach (object? x in l.Skip(1))
                {
                    int c = JinjaOps.Compare(x, best, line);
                    if (name == "min" ? c < 0 : c > 0) best = x;
                }
                return best;
            }
            case "selectattr" or "rejectattr":
            {
                string attr = JinjaValues.Str(Arg(a, k, 0, "attr"));
                string? test = a.Count > 1 ? JinjaValues.Str(a[1]) : null;
                var testArgs = a.Skip(2).ToList();
                bool select = name == "selectattr";
                return JinjaTemplate.Iterate(v, line).Where(x =>
                {
                    object? av = AttrPath(x, attr, line);
                    bool r = test is null ? JinjaValues.Truthy(av) : Test(test, av, testArgs, line);
                    return r == select;
                }).ToList();
            }
            case "select" or "reject":
            {
                string? test = a.Count > 0 ? JinjaValues.Str(a[0]) : null;
                var testArgs = a.Skip(1).ToList();
                bool select = name == "select";
                return JinjaTemplate.Iterate(v, line).Where(x => (test is null ? JinjaValues.Truthy(x) : Test(test, x, testArgs, line)) == select).ToList();
            }
            case "map":
            {
                if (k.TryGetValue("attribute", out object? attr))
                {
                    object? def = k.GetValueOrDefault("default");
                    return JinjaTemplate.Iterate(v, line).Select(x => { object? r = AttrPath(x, JinjaValues.Str(attr), line); return r is Undefined && def is not null ? def : r; }).ToList();
                }
                if (a.Count == 0) throw Err(line, "map needs a filter name or attribute=");
                string filter = JinjaValues.Str(a[0]);
                var rest = a.Skip(1).ToList();
                return JinjaTemplate.Iterate(v, line).Select(x => Apply(filter, x, rest, new Dictionary<string, object?>(), line, tpl)).ToList();
            }
            case "batch":
            {
                int size = (int)JinjaOps.ToLong(Arg(a, k, 0, "linecount"), line);
                if (size <= 0) throw Err(line, "batch size must be positive");
                return JinjaTemplate.Iterate(v, line).Chunk(size).Select(c => (object?)c.ToList()).ToList();
            }
            case "indent":
            {
                object? w = Arg(a, k, 0, "width", 4L);
                string pad = w is string ws ? ws : new string(' ', (int)JinjaOps.ToLong(w, line));
                bool first = JinjaValues.Truthy(Arg(a, k, 1, "first", false));
                bool blank = JinjaValues.Truthy(Arg(a, k, 2, "blank", false));
                string[] lines = JinjaValues.Str(v).Split('\n');
                for (int i = 0; i < lines.Length; i++)
                {
                    if ((i > 0 || first) && (blank || lines[i].Length > 0)) lines[i] = pad + lines[i];
                }
                return string.Join('\n', lines);
            }
            case "wordcount":
                return (long)JinjaValues.Str(v).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
            case "center":
            {
                string s = JinjaValues.Str(v);
                int width = (int)JinjaOps.ToLong(Arg(a, k, 0, "width", 80L), line);
                if (s.Length >= width) return s;
                int left = (width - s.Length) / 2;
                return new string(' ', left) + s + new string(' ', width - s.Length - left);
            }
            case "truncate":
            {
                string s = JinjaValues.Str(v);
                int len = (int)JinjaOps.ToLong(Arg(a, k, 0, "length", 255L), line);
                return s.Length <= len ? s : s[..Math.Max(0, len - 3)] + "...";
            }
            case "format":
                return JinjaOps.Binary("%", JinjaValues.Str(v), a, line);
            default:
                throw Err(line, $"unknown filter '{name}'");
        }
    }

    public static bool Test(string name, object? v, List<object?> a, int line) => name switch
    {
        "defined" => v is not Undefined,
        "undefined" => v is Undefined,
        "none" => v is null,
        "string" => v is string,
        "number" => v is long or double,
        "integer" => v is long,
        "float" => v is double,
        "boolean" => v is bool,
        "true" => v is true,
        "false" => v is false,
        "mapping" => v is Dictionary<string, object?> or JinjaNamespace,
        "iterable" => v is string or List<object?> or Dictionary<string, object?>,
        "sequence" => v is string or List<object?> or Dictionary<string, object?>,
        "callable" => v is JinjaCallable,
        "even" => JinjaOps.ToLong(v, line) % 2 == 0,
        "odd" => JinjaOps.ToLong(v, line) % 2 != 0,
        "divisibleby" => a.Count > 0 && JinjaOps.ToLong(v, line) % JinjaOps.ToLong(a[0], line) == 0,
        "lower" => v is string s && s == s.ToLowerInvariant(),
        "upper" => v is string s2 && s2 == s2.ToUpperInvariant(),
        "eq" or "equalto" or "==" => a.Count > 0 && JinjaOps.Equal(v, a[0]),
        "ne" or "!=" => a.Count > 0 && !JinjaOps.Equal(v, a[0]),
        "gt" or "greaterthan" => a.Count > 0 && JinjaOps.Compare(v, a[0], line) > 0,
        "ge" => a.Count > 0 && JinjaOps.Compare(v, a[0], line) >= 0,
        "lt" or "lessthan" => a.Count > 0 && JinjaOps.Compare(v, a[0], line) < 0,
        "le" => a.Count > 0 && JinjaOps.Compare(v, a[0], line) <= 0,
        "in" => a.Count > 0 && JinjaOps.Contains(a[0], v, line),
        "sameas" => a.Count > 0 && (ReferenceEquals(v, a[0]) || (v is null && a[0] is null) || (v is bool b1 && a[0] is bool b2 && b1 == b2)),
        _ => throw Err(line, $"unknown test '{name}'"),
    };
}
