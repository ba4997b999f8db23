using System.Text.Json;

namespace Weft.Flows;

/// <summary>A typed input or output port of a node type.</summary>
/// <param name="Name">Port name.</param>
/// <param name="Type">Port type (<see cref="PortTypes"/>).</param>
/// <param name="Optional">Inputs only: the port may be left unbound.</param>
/// <param name="Description">One line for the editor and <c>weft flow nodes</c>.</param>
public sealed record PortSpec(string Name, string Type, bool Optional = false, string Description = "");

/// <summary>Parameter kinds.</summary>
public enum ParamKind
{
    /// <summary>Text (may hold <c>${env.NAME}</c>).</summary>
    String,
    /// <summary>Integer.</summary>
    Int,
    /// <summary>Floating-point number.</summary>
    Number,
    /// <summary>Boolean.</summary>
    Bool,
    /// <summary>One of <see cref="ParamSpec.Options"/>.</summary>
    Enum,
    /// <summary>A list of strings (a JSON array).</summary>
    StringList,
    /// <summary>Any JSON value.</summary>
    Json,
}

/// <summary>A node parameter with its default, range or options.</summary>
public sealed record ParamSpec
{
    /// <summary>Parameter name.</summary>
    public required string Name { get; init; }
    /// <summary>Kind of value.</summary>
    public required ParamKind Kind { get; init; }
    /// <summary>Default value (null: none).</summary>
    public object? Default { get; init; }
    /// <summary>A value must be given (no default).</summary>
    public bool Required { get; init; }
    /// <summary>Inclusive minimum for numbers.</summary>
    public double? Min { get; init; }
    /// <summary>Inclusive maximum for numbers.</summary>
    public double? Max { get; init; }
    /// <summary>Allowed values of an <see cref="ParamKind.Enum"/>.</summary>
    public IReadOnlyList<string> Options { get; init; } = [];
    /// <summary>One line of help.</summary>
    public string Description { get; init; } = "";

    /// <summary>Port-type name the editor shows for this parameter (ComfyUI widget types).</summary>
    public string WidgetType => Kind switch
    {
        ParamKind.String => "STRING",
        ParamKind.Int => "INT",
        ParamKind.Number => "FLOAT",
        ParamKind.Bool => "BOOLEAN",
        ParamKind.Enum => "COMBO",
        ParamKind.StringList => "LIST",
        _ => "JSON",
    };

    /// <summary>Checks a JSON value against the kind, range and options; returns an error message or null.</summary>
    public string? Check(JsonElement v)
    {
        switch (Kind)
        {
            case ParamKind.String:
                return v.ValueKind == JsonValueKind.String ? null : $"expects a string, got {Describe(v)}";
            case ParamKind.Bool:
                return v.ValueKind is JsonValueKind.True or JsonValueKind.False ? null : $"expects true or false, got {Describe(v)}";
            case ParamKind.Int:
            case ParamKind.Number:
                if (v.ValueKind != JsonValueKind.Number)
                {
                    return $"expects a number, got {Describe(v)}";
                }
                double d = v.GetDouble();
                if (Kind == ParamKind.Int && d != Math.Floor(d))
                {
                    return $"expects an integer, got {d}";
                }
                if (Min is double lo && d < lo)
                {
                    return $"is {d}, below the minimum {lo}";
                }
                if (Max is double hi && d > hi)
                {
                    return $"is {d}, above the maximum {hi}";
                }
                return null;
            case ParamKind.Enum:
                return v.ValueKind == JsonValueKind.String && Options.Contains(v.GetString()!)
                    ? null
                    : $"is {Describe(v)}, not one of: {string.Join(", ", Options)}";
            case ParamKind.StringList:
                if (v.ValueKind != JsonValueKind.Array)
                {
                    return $"expects an array of strings, got {Describe(v)}";
                }
                foreach (JsonElement e in v.EnumerateArray())
                {
                    if (e.ValueKind != JsonValueKind.String)
                    {
                        return $"expects an array of strings, but an item is {Describe(e)}";
                    }
                }
                return null;
            default:
                return null;
        }
    }

    private static string Describe(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => $"\"{v.GetString()}\"",
        JsonValueKind.Number => v.GetRawText(),
        _ => v.ValueKind.ToString().ToLowerInvariant(),
    };
}

/// <summary>The schema of a node type: typed ports and parameters, as the validator, executor and editor see it.</summary>
public sealed record NodeSchema
{
    /// <summary>Type name used in flow files.</summary>
    public required string Name { get; init; }
    /// <summary>Human-readable name.</summary>
    public string DisplayName { get; init; } = "";
    /// <summary>Category path for the editor's menu (<c>llm</c>, <c>eval</c>, ...).</summary>
    public string Category { get; init; } = "misc";
    /// <summary>What the node does.</summary>
    public string Description { get; init; } = "";
    /// <summary>Input ports.</summary>
    public IReadOnlyList<PortSpec> Inputs { get; init; } = [];
    /// <summary>Output ports.</summary>
    public IReadOnlyList<PortSpec> Outputs { get; init; } = [];
    /// <summary>Parameters.</summary>
    public IReadOnlyList<ParamSpec> Params { get; init; } = [];
    /// <summary>Inputs beyond <see cref="Inputs"/> are accepted (type <c>any</c>), e.g. template variables.</summary>
    public bool ExtraInputs { get; init; }
    /// <summary>Inactive-branch values (<see cref="Skipped"/>) on any input are dropped instead of skipping the node (branch joins such as <c>coalesce</c>).</summary>
    public bool JoinsBranches { get; init; }
    /// <summary>Results may be cached by inputs and parameters (false for nodes with side effects).</summary>
    public bool Cacheable { get; init; } = true;
    /// <summary>The node shows a result in the editor (an output node).</summary>
    public bool IsOutput { get; init; }

    /// <summary>Input port by name, or null.</summary>
    public PortSpec? Input(string name) => Inputs.FirstOrDefault(p => p.Name == name);

    /// <summary>Output port by name, or null.</summary>
    public PortSpec? Output(string name) => Outputs.FirstOrDefault(p => p.Name == name);

    /// <summary>Parameter by name, or null.</summary>
    public ParamSpec? Param(string name) => Params.FirstOrDefault(p => p.Name == name);
}
