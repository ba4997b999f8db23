using System.Globalization;
using System.Text;

namespace Weft.Models.Templates;

/// <summary>Binary operators and conversions with Python semantics.</summary>
internal static class JinjaOps
{
    private static TemplateException Err(int line, string msg) => new($"line {line}: {msg}");

    public static long ToLong(object? v, int line) => v switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        double d => (long)d,
        string s when long.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long p) => p,
        _ => throw Err(line, $"expected an integer, got {JinjaTemplate.TypeName(v)}"),
    };

    private static bool IsNum(object? v) => v is long or double or bool;
    private static double ToDouble(object? v) => v switch { long l => l, double d => d, bool b => b ? 1 : 0, _ => double.NaN };

    public static bool Equal(object? a, object? b)
    {
        if (a is Undefined) a = null;
        if (b is Undefined) b = null;
        if (IsNum(a) && IsNum(b)) return ToDouble(a) == ToDouble(b);
        if (a is string sa && b is string sb) return sa == sb;
        if (a is List<object?> la && b is List<object?> lb) return la.Count == lb.Count && la.Zip(lb).All(p => Equal(p.First, p.Second));
        if (a is Dictionary<string, object?> da && b is Dictionary<string, object?> db)
            return da.Count == db.Count && da.All(kv => db.TryGetValue(kv.Key, out object? v) && Equal(kv.Value, v));
        if (a is null || b is null) return a is null && b is null;
        return ReferenceEquals(a, b);
    }

    public static int Compare(object? a, object? b, int line)
    {
        if (IsNum(a) && IsNum(b)) return ToDouble(a).CompareTo(ToDouble(b));
        if (a is string sa && b is string sb) return string.CompareOrdinal(sa, sb);
        if (a is List<object?> la && b is List<object?> lb)
        {
            for (int i = 0; i < Math.Min(la.Count, lb.Count); i++)
            {
                int c = Compare(la[i], lb[i], line);
                if (c != 0) return c;
            }
            return la.Count.CompareTo(lb.Count);
        }
        throw Err(line, $"cannot compare {JinjaTemplate.TypeName(a)} with {JinjaTemplate.TypeName(b)}");
    }

    public static bool Contains(object? container, object? item, int line) => container switch
    {
        string s => item is string sub ? s.Contains(sub, StringComparison.Ordinal) : throw Err(line, "'in <string>' needs a string on the left"),
        List<object?> l => l.Any(x => Equal(x, item)),
        Dictionary<string, object?> d => item is string k && d.ContainsKey(k),
        JinjaNamespace ns => item is string k2 && ns.Attrs.ContainsKey(k2),
        null or Undefined => false,
        _ => throw Err(line, $"'in' is not supported for {JinjaTemplate.TypeName(container)}"),
    };

    public static object? Binary(string op, object? a, object? b, int line)
    {
        switch (op)
        {
            case "==": return Equal(a, b);
            case "!=": return !Equal(a, b);
            case "<": return Compare(a, b, line) < 0;
            case ">": return Compare(a, b, line) > 0;
            case "<=": return Compare(a, b, line) <= 0;
            case ">=": return Compare(a, b, line) >= 0;
            case "in": return Contains(b, a, line);
            case "~": return JinjaValues.Str(a) + JinjaValues.Str(b);
            case "+":
                if (a is string s1 && b is string s2) return s1 + s2;
                if (a is List<object?> l1 && b is List<object?> l2) return l1.Concat(l2).ToList();
                break;
            case "*":
                if (a is string rs && b is long rn) return rn <= 0 ? "" : new StringBuilder().Insert(0, rs, (int)Math.Min(rn, 1_000_000)).ToString();
                if (a is List<object?> rl && b is long rln) return Enumerable.Repeat(rl, (int)Math.Max(0, Math.Min(rln, 1_000_000))).SelectMany(x => x).ToList();
                break;
        }
        if (IsNum(a) && IsNum(b))
        {
            bool ints = a is long or bool && b is long or bool;
            if (ints)
            {
                long x = ToLong(a, line), y = ToLong(b, line);
                switch (op)
                {
                    case "+": return x + y;
                    case "-": return x - y;
                    case "*": return x * y;
                    case "/": if (y == 0) throw Err(line, "division by zero"); return (double)x / y;
                    case "//": if (y == 0) throw Err(line, "division by zero"); return (long)Math.Floor((double)x / y);
                    case "%": if (y == 0) throw Err(line, "modulo by zero"); return ((x % y) + y) % y;
                    case "**": return y >= 0 ? (object)(long)Math.Pow(x, y) : Math.Pow(x, y);
                }
            }
            double dx = ToDouble(a), dy = ToDouble(b);
            switch (op)
            {
                case "+": return dx + dy;
                case "-": return dx - dy;
                case "*": return dx * dy;
                case "/": if (dy == 0) throw Err(line, "division by zero"); return dx / dy;
                case "//": if (dy == 0) throw Err(line, "division by zero"); return Math.Floor(dx / dy);
                case "%": if (dy == 0) throw Err(line, "modulo by zero"); return dx - dy * Math.Floor(dx / dy);
                case "**": return Math.Pow(dx, dy);
            }
        }
        if (op == "%" && a is string fmt)
        {
            return PercentFormat(fmt, b is List<object?> args ? args : new List<object?> { b }, line);
        }
        throw Err(line, $"unsupported operand types for {op}: {JinjaTemplate.TypeName(a)} and {JinjaTemplate.TypeName(b)}");
    }

    private static string PercentFormat(string fmt, List<object?> args, int line)
    {
        var sb = new StringBuilder();
        int ai = 0;
        for (int i = 0; i < fmt.Length; i++)
        {
            if (fmt[i] != '%' || i + 1 >= fmt.Length)
            {
                sb.Append(fmt[i]);
                continue;
            }
            char c = fmt[++i];
            if (c == '%')
            {
                sb.Append('%');
                continue;
            }
            if (ai >= args.Count) throw Err(line, "not enough arguments for format string");
            object? v = args[ai++];
            sb.Append(c switch { 'd' or 'i' => ToLong(v, line).ToString(CultureInfo.InvariantCulture), 'r' => JinjaValues.Repr(v), _ => JinjaValues.Str(v) });
        }
        return sb.ToString();
    }

    public static string Strftime(DateTime t, string fmt)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < fmt.Length; i++)
        {
            if (fmt[i] != '%' || i + 1 >= fmt.Length)
            {
                sb.Append(fmt[i]);
                continue;
            }
            char c = fmt[++i];
            sb.Append(c switch
            {
                'Y' => t.ToString("yyyy", CultureInfo.InvariantCulture),
                'm' => t.ToString("MM", CultureInfo.InvariantCulture),
                'd' => t.ToString("dd", CultureInfo.InvariantCulture),
                'H' => t.ToString("HH", CultureInfo.InvariantCulture),
                'M' => t.ToString("mm", CultureInfo.InvariantCulture),
                'S' => t.ToString("ss", CultureInfo.InvariantCulture),
                'b' => t.ToString("MMM", CultureInfo.InvariantCulture),
                'B' => t.ToString("MMMM", CultureInfo.InvariantCulture),
                'a' => t.ToString("ddd", CultureInfo.InvariantCulture),
                'A' => t.ToString("dddd", CultureInfo.InvariantCulture),
                'y' => t.ToString("yy", CultureInfo.InvariantCulture),
                'j' => t.DayOfYear.ToString("000", CultureInfo.InvariantCulture),
                '%' => "%",
                _ => "%" + c,
            });
        }
        return sb.ToString();
    }
}
