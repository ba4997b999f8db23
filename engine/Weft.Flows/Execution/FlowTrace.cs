using System.Text.Json;
using System.Text.Json.Serialization;

namespace Weft.Flows;

/// <summary>One span of a run trace (from a <see cref="System.Diagnostics.Activity"/>): the run itself or one node.</summary>
public sealed class TraceSpan
{
    /// <summary>W3C trace id shared by all spans of the run.</summary>
    [JsonPropertyName("traceId")] public string TraceId { get; set; } = "";
    /// <summary>Span id.</summary>
    [JsonPropertyName("spanId")] public string SpanId { get; set; } = "";
    /// <summary>Parent span id (the run span for nodes).</summary>
    [JsonPropertyName("parentId")] public string? ParentId { get; set; }
    /// <summary>Span name (<c>flow</c> or <c>node:ID</c>).</summary>
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    /// <summary>Node id (null for the run span).</summary>
    [JsonPropertyName("node")] public string? Node { get; set; }
    /// <summary>Node type.</summary>
    [JsonPropertyName("type")] public string? Type { get; set; }
    /// <summary>Start (UTC).</summary>
    [JsonPropertyName("start")] public DateTime Start { get; set; }
    /// <summary>End (UTC).</summary>
    [JsonPropertyName("end")] public DateTime End { get; set; }
    /// <summary>Duration in milliseconds.</summary>
    [JsonPropertyName("durationMs")] public double DurationMs { get; set; }
    /// <summary>done, cached, failed, skipped or cancelled.</summary>
    [JsonPropertyName("status")] public string Status { get; set; } = "";
    /// <summary>Error message when failed.</summary>
    [JsonPropertyName("error")] public string? Error { get; set; }
    /// <summary>Model used by the node.</summary>
    [JsonPropertyName("model")] public string? Model { get; set; }
    /// <summary>Prompt tokens evaluated.</summary>
    [JsonPropertyName("promptTokens")] public int PromptTokens { get; set; }
    /// <summary>Tokens generated.</summary>
    [JsonPropertyName("completionTokens")] public int CompletionTokens { get; set; }
    /// <summary>Wall milliseconds per token (prompt + completion), 0 without tokens.</summary>
    [JsonPropertyName("msPerToken")] public double MsPerToken { get; set; }
    /// <summary>Cost per token from <see cref="FlowServices.CostPerToken"/> (0 for local models unless configured).</summary>
    [JsonPropertyName("costPerToken")] public double CostPerToken { get; set; }
    /// <summary>Total cost (tokens × cost per token).</summary>
    [JsonPropertyName("cost")] public double Cost { get; set; }
}

/// <summary>The trace of one run: the run span followed by one span per node.</summary>
public sealed class FlowTrace
{
    /// <summary>Run id.</summary>
    [JsonPropertyName("runId")] public string RunId { get; set; } = "";
    /// <summary>Flow name.</summary>
    [JsonPropertyName("flow")] public string? Flow { get; set; }
    /// <summary>Spans.</summary>
    [JsonPropertyName("spans")] public List<TraceSpan> Spans { get; set; } = new();

    /// <summary>The trace as JSON.</summary>
    public string ToJson(bool indented = true) =>
        JsonSerializer.Serialize(this, indented ? FlowTraceJson.Default.FlowTrace : FlowTraceJson.Compact.FlowTrace);

    /// <summary>Writes the trace as JSON.</summary>
    public void Save(string path) => File.WriteAllText(path, ToJson());
}

[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(FlowTrace))]
internal sealed partial class FlowTraceJson : JsonSerializerContext
{
    public static FlowTraceJson Compact { get; } = new(new JsonSerializerOptions { WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull });
}
