using System.Text.Json;
using System.Text.Json.Serialization;

namespace Weft.Flows;

/// <summary>
/// A flow file (<c>*.flow.json</c>): typed flow inputs, outputs bound to node ports, and nodes with a type, parameters
/// and inputs bound to flow inputs (<c>"inputs.NAME"</c>) or to other nodes' outputs (<c>"NODE.PORT"</c>).
/// </summary>
/// <example>
/// <code>
/// {
///   "version": 1,
///   "inputs": { "prompt": { "type": "string" } },
///   "nodes": [
///     { "id": "gen", "type": "llm_completion", "params": { "model": "${env.WEFT_ASSETS}/models/stories260K.gguf" },
///       "inputs": { "prompt": "inputs.prompt" }, "ui": { "pos": [10, 20] } }
///   ],
///   "outputs": { "text": "gen.text" }
/// }
/// </code>
/// </example>
public sealed class FlowDocument
{
    /// <summary>The flow format version this library reads and writes.</summary>
    public const int CurrentVersion = 1;

    /// <summary>Format version (must be <see cref="CurrentVersion"/>).</summary>
    [JsonPropertyName("version")]
    public int Version { get; set; }

    /// <summary>Optional name.</summary>
    [JsonPropertyName("name")]
    public string? Name { get; set; }

    /// <summary>Optional description.</summary>
    [JsonPropertyName("description")]
    public string? Description { get; set; }

    /// <summary>Flow inputs by name.</summary>
    [JsonPropertyName("inputs")]
    public Dictionary<string, FlowInputSpec> Inputs { get; set; } = new();

    /// <summary>Nodes, in any order (the executor orders them topologically).</summary>
    [JsonPropertyName("nodes")]
    public List<FlowNodeSpec> Nodes { get; set; } = new();

    /// <summary>Flow outputs: name → binding (<c>"NODE.PORT"</c> or <c>"inputs.NAME"</c>).</summary>
    [JsonPropertyName("outputs")]
    public Dictionary<string, string> Outputs { get; set; } = new();

    /// <summary>Editor data (viewport, groups): kept on save, ignored by the engine.</summary>
    [JsonPropertyName("ui")]
    public JsonElement? Ui { get; set; }

    /// <summary>Directory of the file the flow was loaded from (relative paths in parameters resolve against it); null for in-memory flows.</summary>
    [JsonIgnore]
    public string? BaseDirectory { get; set; }

    /// <summary>Parses a flow from JSON text.</summary>
    /// <exception cref="FlowFormatException">The text is not valid flow JSON.</exception>
    public static FlowDocument Parse(string json, string source = "<flow>")
    {
        try
        {
            return JsonSerializer.Deserialize(json, FlowJsonContext.Default.FlowDocument)
                ?? throw new FlowFormatException($"{source}: the file holds JSON null, not a flow object.");
        }
        catch (JsonException e)
        {
            throw new FlowFormatException($"{source}: invalid flow JSON at line {(e.LineNumber ?? 0) + 1}, position {e.BytePositionInLine}: {e.Message}", e);
        }
    }

    /// <summary>Loads a flow file; relative paths in its parameters resolve against its directory.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FlowFormatException">The file is not valid flow JSON.</exception>
    public static FlowDocument Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Flow file '{path}' does not exist.", path);
        }
        FlowDocument doc = Parse(File.ReadAllText(path), path);
        doc.BaseDirectory = Path.GetDirectoryName(Path.GetFullPath(path));
        return doc;
    }

    /// <summary>Serializes the flow (UI data included) as indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, FlowJsonContext.Default.FlowDocument);
}

/// <summary>A declared flow input.</summary>
public sealed class FlowInputSpec
{
    /// <summary>Port type (<see cref="PortTypes"/>).</summary>
    [JsonPropertyName("type")]
    public string Type { get; set; } = PortTypes.String;

    /// <summary>Value used when the caller gives none; an input without a default is required.</summary>
    [JsonPropertyName("default")]
    public JsonElement? Default { get; set; }

    /// <summary>Optional description.</summary>
    [JsonPropertyName("description")]
    public string? Description { get; set; }
}

/// <summary>One node of a flow file.</summary>
public sealed class FlowNodeSpec
{
    /// <summary>Unique id (letters, digits, '_' and '-'; no dots).</summary>
    [JsonPropertyName("id")]
    public string Id { get; set; } = "";

    /// <summary>Registered node type name.</summary>
    [JsonPropertyName("type")]
    public string Type { get; set; } = "";

    /// <summary>Parameter values (JSON); strings may hold <c>${env.NAME}</c> substitutions.</summary>
    [JsonPropertyName("params")]
    public Dictionary<string, JsonElement> Params { get; set; } = new();

    /// <summary>Input port → binding (<c>"inputs.NAME"</c> or <c>"NODE.PORT"</c>).</summary>
    [JsonPropertyName("inputs")]
    public Dictionary<string, string> Inputs { get; set; } = new();

    /// <summary>Per-node timeout in seconds (0: none beyond the run's).</summary>
    [JsonPropertyName("timeout")]
    public double Timeout { get; set; }

    /// <summary>Editor data (position, size, colour): kept on save, ignored by the engine.</summary>
    [JsonPropertyName("ui")]
    public JsonElement? Ui { get; set; }
}

/// <summary>A flow file that cannot be parsed.</summary>
public sealed class FlowFormatException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>System.Text.Json source-generated metadata for the flow formats.</summary>
[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(FlowDocument))]
[JsonSerializable(typeof(List<FlowError>))]
public sealed partial class FlowJsonContext : JsonSerializerContext;
