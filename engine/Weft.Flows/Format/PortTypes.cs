namespace Weft.Flows;

/// <summary>
/// Port type names and their runtime values: <c>string</c> (<see cref="string"/>), <c>number</c> (<see cref="double"/>),
/// <c>bool</c> (<see cref="bool"/>), <c>list</c> (<see cref="List{T}"/> of values), <c>json</c> (any value: object as
/// <see cref="Dictionary{TKey, TValue}"/>, list, string, number, bool or null), <c>vector</c> (<see cref="float"/>[]),
/// <c>any</c>.
/// </summary>
public static class PortTypes
{
    /// <summary>Text.</summary>
    public const string String = "string";
    /// <summary>A double.</summary>
    public const string Number = "number";
    /// <summary>A boolean.</summary>
    public const string Bool = "bool";
    /// <summary>A list of values.</summary>
    public const string List = "list";
    /// <summary>Any JSON value.</summary>
    public const string Json = "json";
    /// <summary>An embedding (float array).</summary>
    public const string Vector = "vector";
    /// <summary>Anything.</summary>
    public const string Any = "any";

    /// <summary>All known type names.</summary>
    public static IReadOnlyList<string> All { get; } = [String, Number, Bool, List, Json, Vector, Any];

    /// <summary>Whether a type name is known.</summary>
    public static bool IsKnown(string type) => All.Contains(type);

    /// <summary>Whether an output of type <paramref name="from"/> may feed an input of type <paramref name="to"/>.</summary>
    /// <remarks><c>any</c> matches everything; <c>json</c> accepts every type but vectors; otherwise the types must be equal.</remarks>
    public static bool IsAssignable(string from, string to) =>
        from == to || from == Any || to == Any || (to == Json && from != Vector) || (from == Json && to != Vector);
}
