namespace Weft.Flows;

/// <summary>Kinds of run events.</summary>
public enum FlowEventKind
{
    /// <summary>The run started.</summary>
    RunStarted,
    /// <summary>A node waits for its inputs.</summary>
    Queued,
    /// <summary>A node started executing.</summary>
    Running,
    /// <summary>A node reported progress (<see cref="FlowEvent.Progress"/>).</summary>
    Progress,
    /// <summary>A node streamed text (<see cref="FlowEvent.Text"/>), e.g. LLM tokens.</summary>
    Text,
    /// <summary>A node's result came from the cache.</summary>
    Cached,
    /// <summary>A node finished.</summary>
    Done,
    /// <summary>A node failed (<see cref="FlowEvent.Error"/>).</summary>
    Failed,
    /// <summary>A node did not run: an inactive branch or a failed upstream node.</summary>
    Skipped,
    /// <summary>The run finished (<see cref="FlowEvent.Text"/> holds the status).</summary>
    RunFinished,
}

/// <summary>One event of a run's event stream.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="NodeId">Node it concerns (null for run events).</param>
/// <param name="NodeType">Type of that node.</param>
public sealed record FlowEvent(FlowEventKind Kind, string? NodeId, string? NodeType)
{
    /// <summary>When it happened (UTC).</summary>
    public DateTimeOffset Timestamp { get; init; } = DateTimeOffset.UtcNow;
    /// <summary>Streamed text, progress message or run status.</summary>
    public string? Text { get; init; }
    /// <summary>Progress in [0, 1] for <see cref="FlowEventKind.Progress"/>.</summary>
    public double? Progress { get; init; }
    /// <summary>Error message for <see cref="FlowEventKind.Failed"/> and <see cref="FlowEventKind.Skipped"/>.</summary>
    public string? Error { get; init; }
    /// <summary>Node duration for <see cref="FlowEventKind.Done"/>.</summary>
    public TimeSpan? Duration { get; init; }
}
