using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Weft.Models.Templates;

/// <summary>The value of an undefined name or missing attribute: renders as empty, is falsy, fails on use.</summary>
internal sealed class Undefined
{
    public Undefined(string name) => Name = name;
    public string Name { get; }
    public override string ToString() => "";
}

/// <summary>A <c>namespace()</c> object: attributes assignable from inner scopes.</summary>
internal sealed class JinjaNamespace
{
    public Dictionary<string, object?> Attrs { get; } = new();
}

/// <summary>A callable value: macros, globals and bound methods.</summary>
internal sealed class JinjaCallable(string name, Func<List<object?>, Dictionary<string, object?>, object?> call)
{
    public string Name { get; } = name;
    public object? Invoke(List<object?> args, Dictionary<string, object?> kwargs) => call(args, kwargs);
}

/// <summary>Conversions between host values and template values, and Python-compatible rendering.</summary>
internal static class JinjaValues
{
    /// <summary>Converts host values (JSON elements, dictionaries, lists, primitives, records) to template values.</summary>
    public static object? From(object? v)
    {
        switch (v)
        {
            case null: return null;
            case string or bool or long or double or Undefined or JinjaNamespace or JinjaCallable: return v;
            case int i: return (long)i;
            case short s: return (long)s;
            case uint u: return (long)u;
            case float f: return (double)f;
            case decimal m: return (double)m;
            case JsonElement je: return FromJson(je);
            case JsonDocument jd: return FromJson(jd.RootElement);
            case IDictionary<string, object?> d:
            {
                var r = new Dictionary<string, object?>();
                foreach (KeyValuePair<string, object?> kv in d) r[kv.Key] = From(kv.Value);
                return r;
            }
            case IDictionary d:
            {
                var r = new Dictionary<string, object?>();
                foreach (DictionaryEntry kv in d) r[Convert.ToString(kv.Key, CultureInfo.InvariantCulture)!] = From(kv.Value);
                return r;
            }
            case IEnumerable e:
            {
                var r = new List<object?>();
                foreach (object? x in e) r.Add(From(x));
                return r;
            }
            default:
            {
                // Plain objects: public readable properties, camel-case preserved as declared (records map field names).
                var r = new Dictionary<string, object?>();
                foreach (var p in v.GetType().GetProperties())
                {
                    if (p.CanRead && p.GetIndexParameters().Length == 0) r[p.Name] = From(p.GetValue(v));
                }
                return r;
            }
        }
    }

    private static object? FromJson(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => e.EnumerateObject().Aggregate(new Dictionary<string, object?>(), (d, p) => { d[p.Name] = FromJson(p.Value); return d; }),
        JsonValueKind.Array => e.EnumerateArray().Select(FromJson).ToList(),
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.TryGetInt64(out long l) ? l : e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    public static bool Truthy(object? v) => v switch
    {
        null or Undefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        ICollection c => c.Count > 0,
        _ => true,
    };

    /// <summary>str(v) as Python prints it.</summary>
    public static string Str(object? v) => v switch
    {
        null => "None",
        Undefined => "",
        string s => s,
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => JinjaLexer.FormatFloat(d),
        _ => Repr(v),
    };

    /// <summary>repr(v) as Python prints it.</summary>
    public static string Repr(object? v)
    {
        switch (v)
        {
            case string s:
            {
                char q = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
                var sb = new StringBuilder().Append(q);
                foreach (char c in s)
                {
                    sb.Append(c switch
                    {
                        '\\' => "\\\\",
                        '\n' => "\\n",
                        '\r' => "\\r",
                        '\t' => "\\t",
                        _ when c == q => "\\" + c,
                        _ => c.ToString(),
                    });
                }
                return sb.Append(q).ToString();
            }
            case List<object?> list:
                return "[" + string.Join(", ", list.Select(Repr)) + "]";
            case Dictionary<string, object?> d:
                return "{" + string.Join(", ", d.Select(kv => Repr(kv.Key) + ": " + Repr(kv.Value))) + "}";
            case JinjaNamespace ns:
                return "<Namespace " + Repr(ns.Attrs) + ">";
            case JinjaCallable c:
                return "<function " + c.Name + ">";
            default:
                return Str(v);
        }
    }

    /// <summary>json.dumps(v, ensure_ascii=False, indent=indent) with Python's default separators.</summary>
    public static string ToJson(object? v, int? indent, bool sortKeys = false)
    {
        var sb = new StringBuilder();
        WriteJson(sb, v, indent, 0, sortKeys);
        return sb.ToString();
    }

    private static void WriteJson(StringBuilder sb, object? v, int? indent, int depth, bool sortKeys)
    {
        switch (v)
        {
            case null or Undefined:
                sb.Append("null");
                return;
            case bool b:
                sb.Append(b ? "true" : "false");
                return;
            case long l:
                sb.Append(l.ToString(CultureInfo.InvariantCulture));
                return;
            case double d:
                sb.Append(double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : JinjaLexer.FormatFloat(d));
                return;
            case string s:
                sb.Append('"');
                foreach (char c in s)
                {
                    switch (c)
                    {
                        case '"': sb.Append("\\\""); break;
                        case '\\': sb.Append("\\\\"); break;
                        case '\n': sb.Append("\\n"); break;
                        case '\r': sb.Append("\\r"); break;
                        case '\t': sb.Append("\\t"); break;
                        case '\b': sb.Append("\\b"); break;
                        case '\f': sb.Append("\\f"); break;
                        default:
                            if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                            else sb.Append(c);
                            break;
                    }
                }
                sb.Append('"');
                return;
            case List<object?> list:
                if (list.Count == 0)
                {
                    sb.Append("[]");
                    return;
                }
                sb.Append('[');
                for (int i = 0; i < list.Count; i++)
                {
                    if (i > 0) sb.Append(indent is null ? ", " : ",");
                    NewLine(sb, indent, depth + 1);
                    WriteJson(sb, list[i], indent, depth + 1, sortKeys);
                }
                NewLine(sb, indent, depth);
                sb.Append(']');
                return;
            case Dictionary<string, object?> or JinjaNamespace:
            {
                Dictionary<string, object?> d = v as Dictionary<string, object?> ?? ((JinjaNamespace)v).Attrs;
                if (d.Count == 0)
                {
                    sb.Append("{}");
                    return;
                }
                IEnumerable<KeyValuePair<string, object?>> items = sortKeys ? d.OrderBy(kv => kv.Key, StringComparer.Ordinal) : d;
                sb.Append('{');
                bool first = true;
                foreach (KeyValuePair<string, object?> kv in items)
                {
                    if (!first) sb.Append(indent is null ? ", " : ",");
                    first = false;
                    NewLine(sb, indent, depth + 1);
                    WriteJson(sb, kv.Key, indent, depth + 1, sortKeys);
                    sb.Append(": ");
                    WriteJson(sb, kv.Value, indent, depth + 1, sortKeys);
                }
                NewLine(sb, indent, depth);
                sb.Append('}');
                return;
            }
            default:
                WriteJson(sb, Str(v), indent, depth, sortKeys);
                return;
        }
    }

    private static void NewLine(StringBuilder sb, int? indent, int depth)
    {
        if (indent is int n)
        {
            sb.Append('\n').Append(' ', n * depth);
        }
    }
}
