using System.Globalization;
using System.Text;

namespace Weft.Core.Gguf;

/// <summary>
/// One immutable GGUF metadata value: a scalar, a string or an array (arrays may nest). Values read from a file
/// remember their byte <see cref="Offset"/> for error messages; values built with the <c>Of</c> factories have -1.
/// </summary>
/// <remarks>
/// Scalars are stored boxed as their CLR type (<see cref="byte"/> for <see cref="GgufValueType.UInt8"/>, ...);
/// arrays as typed CLR arrays (<c>float[]</c>, <c>string[]</c>, <see cref="GgufValue"/>[] for nested arrays).
/// The integer accessors accept every integer type; the float accessors accept f32 and f64.
/// <code>
/// var v = GgufValue.Of(new[] { "a", "b" });   // array of strings
/// IReadOnlyList&lt;string&gt; s = v.AsStringList();
/// </code>
/// </remarks>
public sealed class GgufValue : IEquatable<GgufValue>
{
    private readonly object _value;

    private GgufValue(GgufValueType type, GgufValueType elementType, object value, long offset)
    {
        Type = type;
        ElementType = elementType;
        _value = value;
        Offset = offset;
    }

    internal static GgufValue Create(GgufValueType type, object value, long offset) => new(type, type, value, offset);

    internal static GgufValue CreateArray(GgufValueType elementType, object array, long offset) =>
        new(GgufValueType.Array, elementType, array, offset);

    /// <summary>The value's type tag.</summary>
    public GgufValueType Type { get; }

    /// <summary>For arrays, the element type; for scalars, the same as <see cref="Type"/>.</summary>
    public GgufValueType ElementType { get; }

    /// <summary>Byte offset of the value in the file it was read from (of the type tag for arrays' elements), or -1.</summary>
    public long Offset { get; }

    /// <summary>True for arrays.</summary>
    public bool IsArray => Type == GgufValueType.Array;

    /// <summary>Number of elements of an array (0 for scalars).</summary>
    public int Count => IsArray ? ((Array)_value).Length : 0;

    /// <summary>The raw CLR value: a boxed scalar, a string, or a typed array (do not mutate arrays).</summary>
    public object RawValue => _value;

    /// <summary>True when <paramref name="type"/> is one of the eight integer types.</summary>
    public static bool IsIntegerType(GgufValueType type) =>
        type is GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.UInt16 or GgufValueType.Int16
            or GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.UInt64 or GgufValueType.Int64;

    /// <summary>Bytes one scalar of <paramref name="type"/> occupies on disk; 0 for strings and arrays.</summary>
    public static int ScalarSize(GgufValueType type) => type switch
    {
        GgufValueType.UInt8 or GgufValueType.Int8 or GgufValueType.Bool => 1,
        GgufValueType.UInt16 or GgufValueType.Int16 => 2,
        GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
        GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 => 8,
        _ => 0,
    };

    // ---- factories -------------------------------------------------------------------------------------------

    /// <summary>A u8 value.</summary>
    public static GgufValue Of(byte v) => Create(GgufValueType.UInt8, v, -1);
    /// <summary>An i8 value.</summary>
    public static GgufValue Of(sbyte v) => Create(GgufValueType.Int8, v, -1);
    /// <summary>A u16 value.</summary>
    public static GgufValue Of(ushort v) => Create(GgufValueType.UInt16, v, -1);
    /// <summary>An i16 value.</summary>
    public static GgufValue Of(short v) => Create(GgufValueType.Int16, v, -1);
    /// <summary>A u32 value.</summary>
    public static GgufValue Of(uint v) => Create(GgufValueType.UInt32, v, -1);
    /// <summary>An i32 value.</summary>
    public static GgufValue Of(int v) => Create(GgufValueType.Int32, v, -1);
    /// <summary>A u64 value.</summary>
    public static GgufValue Of(ulong v) => Create(GgufValueType.UInt64, v, -1);
    /// <summary>An i64 value.</summary>
    public static GgufValue Of(long v) => Create(GgufValueType.Int64, v, -1);
    /// <summary>An f32 value.</summary>
    public static GgufValue Of(float v) => Create(GgufValueType.Float32, v, -1);
    /// <summary>An f64 value.</summary>
    public static GgufValue Of(double v) => Create(GgufValueType.Float64, v, -1);
    /// <summary>A bool value.</summary>
    public static GgufValue Of(bool v) => Create(GgufValueType.Bool, v, -1);
    /// <summary>A string value.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="v"/> is null.</exception>
    public static GgufValue Of(string v) => Create(GgufValueType.String, v ?? throw new ArgumentNullException(nameof(v)), -1);

    /// <summary>An array of u8 (copied).</summary>
    public static GgufValue Of(ReadOnlySpan<byte> v) => CreateArray(GgufValueType.UInt8, v.ToArray(), -1);
    /// <summary>An array of i8 (copied).</summary>
    public static GgufValue Of(ReadOnlySpan<sbyte> v) => CreateArray(GgufValueType.Int8, v.ToArray(), -1);
    /// <summary>An array of u16 (copied).</summary>
    public static GgufValue Of(ReadOnlySpan<ushort> v) => CreateArray(GgufValueType.UInt16, v.ToArray(), -1);
    /// <summary>An array of i16 (copied).</summary>
    public static GgufValue Of(ReadOnlySpan<short> v) => CreateArray(GgufValueType.Int16, v.ToArray(), -1);
    /// <summary>An array of u32 (copied).</summary>
    public static GgufValue Of(ReadOnlySpan<uint> v) => CreateArray(GgufValueType.UInt32, v.ToArray(), -1);
    /// <summary>An array of i32 (copied).</summary>
    public static GgufValue Of(ReadOnlySpan<int> v) => CreateArray(GgufValueType.Int32, v.ToArray(), -1);
    /// <summary>An array of u64 (copied).</summary>
    public static GgufValue Of(ReadOnlySpan<ulong> v) => CreateArray(GgufValueType.UInt64, v.ToArray(), -1);
    /// <summary>An array of i64 (copied).</summary>
    public static GgufValue Of(ReadOnlySpan<long> v) => CreateArray(GgufValueType.Int64, v.ToArray(), -1);
    /// <summary>An array of f32 (copied).</summary>
    public static GgufValue Of(ReadOnlySpan<float> v) => CreateArray(GgufValueType.Float32, v.ToArray(), -1);
    /// <summary>An array of f64 (copied).</summary>
    public static GgufValue Of(ReadOnlySpan<double> v) => CreateArray(GgufValueType.Float64, v.ToArray(), -1);
    /// <summary>An array of bool (copied).</summary>
    public static GgufValue Of(ReadOnlySpan<bool> v) => CreateArray(GgufValueType.Bool, v.ToArray(), -1);

    /// <summary>An array of strings (copied).</summary>
    /// <exception cref="ArgumentException">An element is null.</exception>
    public static GgufValue Of(IEnumerable<string> v)
    {
        string[] a = v.ToArray();
        if (Array.IndexOf(a, null) >= 0)
        {
            throw new ArgumentException("A GGUF string array cannot hold null elements.", nameof(v));
        }
        return CreateArray(GgufValueType.String, a, -1);
    }

    /// <summary>An array of arrays (each element must itself be an array value).</summary>
    /// <exception cref="ArgumentException">An element is null or not an array.</exception>
    public static GgufValue OfArrays(IEnumerable<GgufValue> arrays)
    {
        GgufValue[] a = arrays.ToArray();
        foreach (GgufValue e in a)
        {
            if (e is null || !e.IsArray)
            {
                throw new ArgumentException("Every element of a nested GGUF array must be an array value.", nameof(arrays));
            }
        }
        return CreateArray(GgufValueType.Array, a, -1);
    }

    // ---- accessors -------------------------------------------------------------------------------------------

    /// <summary>The value of any integer type as a long.</summary>
    /// <returns>False when the value is not an integer or is a u64 above <see cref="long.MaxValue"/>.</returns>
    public bool TryAsInt64(out long value)
    {
        switch (_value)
        {
            case byte b: value = b; return true;
            case sbyte sb: value = sb; return true;
            case ushort us: value = us; return true;
            case short s: value = s; return true;
            case uint ui: value = ui; return true;
            case int i: value = i; return true;
            case ulong ul when ul <= long.MaxValue: value = (long)ul; return true;
            case long l: value = l; return true;
            default: value = 0; return false;
        }
    }

    /// <summary>The value of f32 or f64 type as a double.</summary>
    public bool TryAsDouble(out double value)
    {
        switch (_value)
        {
            case float f: value = f; return true;
            case double d: value = d; return true;
            default: value = 0; return false;
        }
    }

    /// <summary>The value of any integer type as a long.</summary>
    /// <exception cref="InvalidCastException">Not an integer, or out of range.</exception>
    public long AsInt64() => TryAsInt64(out long v) ? v : throw Mismatch("an integer (fitting in an i64)");

    /// <summary>The value of f32 or f64 type as a double.</summary>
    /// <exception cref="InvalidCastException">Not a float.</exception>
    public double AsDouble() => TryAsDouble(out double v) ? v : throw Mismatch("a float");

    /// <summary>The bool value.</summary>
    /// <exception cref="InvalidCastException">Not a bool.</exception>
    public bool AsBool() => _value is bool b ? b : throw Mismatch("a bool");

    /// <summary>The string value.</summary>
    /// <exception cref="InvalidCastException">Not a string.</exception>
    public string AsString() => Type == GgufValueType.String ? (string)_value : throw Mismatch("a string");

    /// <summary>The elements of a string array (not copied).</summary>
    /// <exception cref="InvalidCastException">Not an array of strings.</exception>
    public IReadOnlyList<string> AsStringList() =>
        _value is string[] a ? Array.AsReadOnly(a) : throw Mismatch("an array of strings");

    /// <summary>The elements of an array of f32 or f64, as floats (copied).</summary>
    /// <exception cref="InvalidCastException">Not an array of floats.</exception>
    public float[] AsFloatArray() => _value switch
    {
        float[] f => (float[])f.Clone(),
        double[] d => Array.ConvertAll(d, x => (float)x),
        _ => throw Mismatch("an array of floats"),
    };

    /// <summary>The elements of an array of any integer type, as longs (copied).</summary>
    /// <exception cref="InvalidCastException">Not an array of integers, or a u64 element above <see cref="long.MaxValue"/>.</exception>
    public long[] AsInt64Array()
    {
        if (!IsArray || !IsIntegerType(ElementType))
        {
            throw Mismatch("an array of integers");
        }
        var src = (Array)_value;
        var r = new long[src.Length];
        switch (_value)
        {
            case byte[] a: for (int i = 0; i < a.Length; i++) { r[i] = a[i]; } break;
            case sbyte[] a: for (int i = 0; i < a.Length; i++) { r[i] = a[i]; } break;
            case ushort[] a: for (int i = 0; i < a.Length; i++) { r[i] = a[i]; } break;
            case short[] a: for (int i = 0; i < a.Length; i++) { r[i] = a[i]; } break;
            case uint[] a: for (int i = 0; i < a.Length; i++) { r[i] = a[i]; } break;
            case int[] a: for (int i = 0; i < a.Length; i++) { r[i] = a[i]; } break;
            case long[] a: a.CopyTo(r, 0); break;
            case ulong[] a:
                for (int i = 0; i < a.Length; i++)
                {
                    r[i] = a[i] <= long.MaxValue ? (long)a[i] : throw Mismatch($"an array of integers fitting in an i64 (element {i} is {a[i]})");
                }
                break;
        }
        return r;
    }

    /// <summary>The elements of an array of any integer type, as ints (copied).</summary>
    /// <exception cref="InvalidCastException">Not an array of integers, or an element outside the int range.</exception>
    public int[] AsInt32Array()
    {
        long[] l = AsInt64Array();
        var r = new int[l.Length];
        for (int i = 0; i < l.Length; i++)
        {
            r[i] = l[i] is >= int.MinValue and <= int.MaxValue ? (int)l[i] : throw Mismatch($"an array of i32-range integers (element {i} is {l[i]})");
        }
        return r;
    }

    /// <summary>The elements of a nested array (each an array value).</summary>
    /// <exception cref="InvalidCastException">Not an array of arrays.</exception>
    public IReadOnlyList<GgufValue> AsArrayList() =>
        _value is GgufValue[] a ? Array.AsReadOnly(a) : throw Mismatch("an array of arrays");

    /// <summary>A short name of the type: <c>u32</c>, <c>string</c>, <c>array[f32]</c>, ...</summary>
    public string TypeName => IsArray ? $"array[{Name(ElementType)}]" : Name(Type);

    /// <summary>Short name of a scalar type tag as used in messages.</summary>
    public static string Name(GgufValueType t) => t switch
    {
        GgufValueType.UInt8 => "u8",
        GgufValueType.Int8 => "i8",
        GgufValueType.UInt16 => "u16",
        GgufValueType.Int16 => "i16",
        GgufValueType.UInt32 => "u32",
        GgufValueType.Int32 => "i32",
        GgufValueType.Float32 => "f32",
        GgufValueType.Bool => "bool",
        GgufValueType.String => "string",
        GgufValueType.Array => "array",
        GgufValueType.UInt64 => "u64",
        GgufValueType.Int64 => "i64",
        GgufValueType.Float64 => "f64",
        _ => $"type {(uint)t}",
    };

    private InvalidCastException Mismatch(string expected) =>
        new($"the value is {TypeName}, expected {expected}");

    /// <summary>Text for display: scalars in invariant culture, arrays as the first <paramref name="maxItems"/> elements.</summary>
    public string ToDisplayString(int maxItems = 8)
    {
        if (!IsArray)
        {
            return ScalarText(_value);
        }
        var a = (Array)_value;
        var sb = new StringBuilder();
        sb.Append('[');
        int n = Math.Min(a.Length, Math.Max(0, maxItems));
        for (int i = 0; i < n; i++)
        {
            if (i > 0)
            {
                sb.Append(", ");
            }
            object? e = a.GetValue(i);
            sb.Append(e is GgufValue g ? g.ToDisplayString(maxItems) : ScalarText(e!));
        }
        if (a.Length > n)
        {
            sb.Append(n > 0 ? ", " : "").Append("... (").Append(a.Length.ToString(CultureInfo.InvariantCulture)).Append(" items)");
        }
        sb.Append(']');
        return sb.ToString();
    }

    private static string ScalarText(object v) => v switch
    {
        string s => "\"" + s + "\"",
        bool b => b ? "true" : "false",
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString() ?? "",
    };

    /// <inheritdoc/>
    public override string ToString() => $"{TypeName} {ToDisplayString()}";

    /// <summary>Structural equality: same type tags and the same elements (floats compared bit for bit).</summary>
    public bool Equals(GgufValue? other)
    {
        if (other is null || Type != other.Type || ElementType != other.ElementType)
        {
            return false;
        }
        return (_value, other._value) switch
        {
            (float a, float b) => BitConverter.SingleToInt32Bits(a) == BitConverter.SingleToInt32Bits(b),
            (double a, double b) => BitConverter.DoubleToInt64Bits(a) == BitConverter.DoubleToInt64Bits(b),
            (float[] a, float[] b) => BitsEqual(a, b),
            (double[] a, double[] b) => a.Length == b.Length && a.Zip(b).All(p => BitConverter.DoubleToInt64Bits(p.First) == BitConverter.DoubleToInt64Bits(p.Second)),
            (GgufValue[] a, GgufValue[] b) => a.Length == b.Length && a.Zip(b).All(p => p.First.Equals(p.Second)),
            (Array a, Array b) => a.Length == b.Length && System.Collections.StructuralComparisons.StructuralEqualityComparer.Equals(a, b),
            _ => _value.Equals(other._value),
        };
    }

    private static bool BitsEqual(float[] a, float[] b) =>
        a.Length == b.Length && System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.AsBytes(b.AsSpan()));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is GgufValue v && Equals(v);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Type, ElementType, IsArray ? Count : _value.GetHashCode());
}
