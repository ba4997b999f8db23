using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Weft.Flows;

/// <summary>Conversions between runtime port values (see <see cref="PortTypes"/>) and text or JSON.</summary>
public static class FlowValue
{
    /// <summary>Text of a value: strings as they are, numbers in invariant culture, everything else as compact JSON.</summary>
    public static string ToText(object? v) => v switch
    {
        null => "",
        string s => s,
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        _ => ToJsonNode(v)?.ToJsonString() ?? "null",
    };

    /// <summary>A value as a list; a non-list becomes a one-item list and null an empty list.</summary>
    public static List<object?> ToList(object? v) => v switch
    {
        null => [],
        List<object?> l => l,
        float[] f => f.Select(x => (object?)(double)x).ToList(),
        System.Collections.IEnumerable e when v is not string && v is not System.Collections.IDictionary => e.Cast<object?>().ToList(),
        _ => [v],
    };

    /// <summary>A value as a number (strings are parsed).</summary>
    /// <exception cref="FormatException">A string that is not a number.</exception>
    public static double ToNumber(object? v) => v switch
    {
        double d => d,
        bool b => b ? 1 : 0,
        int i => i,
        long l => l,
        float f => f,
        string s => double.Parse(s, CultureInfo.InvariantCulture),
        null => 0,
        _ => throw new FormatException($"A {v.GetType().Name} value is not a number."),
    };

    /// <summary>Truthiness: false, null, 0, "", "false" and empty lists are false.</summary>
    public static bool ToBool(object? v) => v switch
    {
        null => false,
        bool b => b,
        double d => d != 0,
        string s => s.Length > 0 && !s.Equals("false", StringComparison.OrdinalIgnoreCase),
        List<object?> l => l.Count > 0,
        Skipped => false,
        _ => true,
    };

    /// <summary>A runtime value from JSON: objects become dictionaries, arrays lists, numbers doubles.</summary>
    public static object? FromJson(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Array => e.EnumerateArray().Select(FromJson).ToList(),
        JsonValueKind.Object => e.EnumerateObject().ToDictionary(p => p.Name, p => FromJson(p.Value), StringComparer.Ordinal),
        _ => null,
    };

    /// <summary>A runtime value as a JSON node (vectors become arrays of numbers).</summary>
    public static JsonNode? ToJsonNode(object? v)
    {
        switch (v)
        {
            case null:
                return null;
            case JsonNode n:
                return n.DeepClone();
            case JsonElement je:
                return JsonNode.Parse(je.GetRawText());
            case string s:
                return JsonValue.Create(s);
            case bool b:
                return JsonValue.Create(b);
            case double d:
                return double.IsFinite(d) ? JsonValue.Create(d) : JsonValue.Create(d.ToString(CultureInfo.InvariantCulture));
            case int i:
                return JsonValue.Create(i);
            case long l:
                return JsonValue.Create(l);
            case float f:
                return double.IsFinite(f) ? JsonValue.Create((double)f) : JsonValue.Create(f.ToString(CultureInfo.InvariantCulture));
            case Skipped:
                return null;
            case IDictionary<string, object?> d:
                {
                    var o = new JsonObject();
                    foreach (KeyValuePair<string, object?> kv in d)
                    {
                        o[kv.Key] = ToJsonNode(kv.Value);
                    }
                    return o;
                }
            case System.Collections.IEnumerable e:
                {
                    var a = new JsonArray();
                    foreach (object? x in e)
                    {
                        a.Add(ToJsonNode(x));
                    }
                    return a;
                }
            default:
                return JsonValue.Create(v.ToString());
        }
    }

    /// <summary>SHA-256 (hex) of the canonical JSON of a value, for cache keys.</summary>
    public static string Hash(object? v) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(ToJsonNode(v)?.ToJsonString() ?? "null")));

    /// <summary>Whether a value fits a port type (null fits every optional port; numbers fit <c>string</c> ports).</summary>
    public static bool Fits(object? v, string type) => type switch
    {
        PortTypes.Any or PortTypes.Json => v is not float[],
        PortTypes.String => v is string or double or bool,
        PortTypes.Number => v is double || (v is string s && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _)),
        PortTypes.Bool => v is bool,
        PortTypes.List => v is List<object?>,
        PortTypes.Vector => v is float[],
        _ => false,
    };

    /// <summary>Converts a value to a port type where that is lossless (text to number, JSON numbers to number).</summary>
    public static object? Coerce(object? v, string type) => type switch
    {
        PortTypes.Number when v is string s => double.Parse(s, CultureInfo.InvariantCulture),
        PortTypes.String when v is double or bool => ToText(v),
        PortTypes.Vector when v is List<object?> l => l.Select(x => (float)ToNumber(x)).ToArray(),
        _ => v,
    };
}

/// <summary>Source-generated JSON metadata for <see cref="JsonNode"/> values.</summary>
[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(JsonNode))]
[JsonSerializable(typeof(JsonObject))]
internal sealed partial class FlowValueJson : JsonSerializerContext;
