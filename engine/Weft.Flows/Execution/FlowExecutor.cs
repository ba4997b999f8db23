using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Weft.Flows;

/// <summary>Options of one run.</summary>
public sealed record FlowRunOptions
{
    /// <summary>Receives every event of the run (called from worker threads, concurrently; keep it quick and thread-safe).</summary>
    public Action<FlowEvent>? OnEvent { get; init; }
    /// <summary>Use the executor's cache (default true).</summary>
    public bool UseCache { get; init; } = true;
    /// <summary>Timeout for every node without its own <see cref="FlowNodeSpec.Timeout"/> (null: none).</summary>
    public TimeSpan? NodeTimeout { get; init; }
    /// <summary>Run id (default: a new GUID).</summary>
    public string? RunId { get; init; }
}

/// <summary>Final state of a node in a run.</summary>
public enum NodeState
{
    /// <summary>Ran and finished.</summary>
    Done,
    /// <summary>Result taken from the cache.</summary>
    Cached,
    /// <summary>Threw, timed out or produced bad outputs.</summary>
    Failed,
    /// <summary>Did not run: inactive branch or failed upstream node.</summary>
    Skipped,
    /// <summary>The run was cancelled before or while it ran.</summary>
    Cancelled,
}

/// <summary>What happened to one node.</summary>
/// <param name="State">Final state.</param>
/// <param name="Error">Error message (failed or skipped).</param>
/// <param name="Duration">Wall time.</param>
public sealed record NodeRunInfo(NodeState State, string? Error, TimeSpan Duration);

/// <summary>Overall outcome of a run.</summary>
public enum FlowRunStatus
{
    /// <summary>Every node finished, was cached or was skipped by a branch.</summary>
    Succeeded,
    /// <summary>At least one node failed.</summary>
    Failed,
    /// <summary>The run was cancelled.</summary>
    Cancelled,
}

/// <summary>The result of a run.</summary>
public sealed class FlowRunResult
{
    /// <summary>Run id.</summary>
    public required string RunId { get; init; }
    /// <summary>Outcome.</summary>
    public required FlowRunStatus Status { get; init; }
    /// <summary>Flow outputs by name (outputs whose node failed are absent).</summary>
    public required Dictionary<string, object?> Outputs { get; init; }
    /// <summary>Per-node states.</summary>
    public required Dictionary<string, NodeRunInfo> Nodes { get; init; }
    /// <summary>Errors of failed nodes, each naming its node.</summary>
    public required List<FlowError> Errors { get; init; }
    /// <summary>The trace (run span + node spans).</summary>
    public required FlowTrace Trace { get; init; }
}

/// <summary>
/// Runs flows: validates, schedules nodes as soon as their inputs are ready (independent branches run in parallel on
/// the thread pool), streams events, caches node results by inputs and parameters, applies per-node timeouts, keeps
/// going when a node fails (nodes that need its outputs are skipped, independent ones finish), and records a trace of
/// <see cref="Activity"/> spans.
/// </summary>
/// <example>
/// <code>
/// using var services = new FlowServices();
/// var exec = new FlowExecutor(NodeRegistry.CreateDefault(), services);
/// FlowRunResult r = await exec.RunAsync(FlowDocument.Load("examples/story.flow.json"),
///     new Dictionary&lt;string, object?&gt; { ["prompt"] = "Once upon a time" },
///     new FlowRunOptions { OnEvent = e =&gt; { if (e.Kind == FlowEventKind.Text) Console.Write(e.Text); } });
/// </code>
/// </example>
public sealed class FlowExecutor
{
    /// <summary>Name of the <see cref="ActivitySource"/> runs and nodes are traced under.</summary>
    public const string ActivitySourceName = "Weft.Flows";

    private static readonly ActivitySource s_source = new(ActivitySourceName);

    /// <summary>How long a cancelled or timed-out node may take to stop before the run stops waiting for it.</summary>
    public static TimeSpan CancellationGrace { get; } = TimeSpan.FromSeconds(5);

    /// <summary>An executor over <paramref name="registry"/> sharing <paramref name="services"/> and <paramref name="cache"/> across runs.</summary>
    public FlowExecutor(NodeRegistry registry, FlowServices services, FlowCache? cache = null)
    {
        Registry = registry;
        Services = services;
        Cache = cache ?? new FlowCache();
        services.Registry ??= registry;
    }

    /// <summary>Node types.</summary>
    public NodeRegistry Registry { get; }

    /// <summary>Shared services.</summary>
    public FlowServices Services { get; }

    /// <summary>Node result cache.</summary>
    public FlowCache Cache { get; }

    /// <summary>Runs a flow.</summary>
    /// <exception cref="FlowValidationException">The flow is invalid, or a required flow input is missing or of the wrong type.</exception>
    /// <exception cref="OperationCanceledException">Never: a cancelled run returns <see cref="FlowRunStatus.Cancelled"/>.</exception>
    public async Task<FlowRunResult> RunAsync(FlowDocument flow, IReadOnlyDictionary<string, object?> inputs, FlowRunOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new FlowRunOptions();
        FlowValidator.EnsureValid(flow, Registry);
        Dictionary<string, object?> flowInputs = ResolveFlowInputs(flow, inputs);
        string runId = options.RunId ?? Guid.NewGuid().ToString("N");
        Action<FlowEvent> emit = options.OnEvent is { } cb ? e => cb(e) : _ => { };

        Activity runActivity = s_source.StartActivity("flow", ActivityKind.Internal) ?? new Activity("flow").SetIdFormat(ActivityIdFormat.W3C).Start();
        runActivity.SetTag("weft.run_id", runId);
        runActivity.SetTag("weft.flow", flow.Name);
        var spans = new List<TraceSpan>();
        var nodes = new Dictionary<string, NodeRunInfo>(StringComparer.Ordinal);
        var errors = new List<FlowError>();
        var results = new Dictionary<string, Task<NodeOutputs?>>(StringComparer.Ordinal);
        var gate = new object();
        emit(new FlowEvent(FlowEventKind.RunStarted, null, null) { Text = runId });

        List<string> order = FlowValidator.TopologicalOrder(flow, out _)!;
        var byId = flow.Nodes.ToDictionary(n => n.Id, StringComparer.Ordinal);
        foreach (string id in order)
        {
            FlowNodeSpec spec = byId[id];
            emit(new FlowEvent(FlowEventKind.Queued, id, spec.Type));
        }
        foreach (string id in order)
        {
            FlowNodeSpec spec = byId[id];
            results[id] = RunNodeAsync(spec);
        }
        try
        {
            await Task.WhenAll(results.Values).ConfigureAwait(false);
        }
        finally
        {
            runActivity.Stop();
        }

        var outputs = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach ((string name, string bindingText) in flow.Outputs)
        {
            Binding b = Binding.Parse(bindingText)!.Value;
            if (b.NodeId is null)
            {
                outputs[name] = flowInputs.GetValueOrDefault(b.Name);
            }
            else if (results[b.NodeId].Result is NodeOutputs o && o.TryGetValue(b.Name, out object? v) && v is not Skipped)
            {
                outputs[name] = v;
            }
        }
        FlowRunStatus status = cancellationToken.IsCancellationRequested ? FlowRunStatus.Cancelled
            : nodes.Values.Any(n => n.State is NodeState.Failed or NodeState.Cancelled) ? FlowRunStatus.Failed : FlowRunStatus.Succeeded;
        var trace = new FlowTrace { RunId = runId, Flow = flow.Name };
        trace.Spans.Add(ToSpan(runActivity, null, null, status.ToString().ToLowerInvariant(), null, null));
        trace.Spans.AddRange(spans.OrderBy(s => s.Start));
        emit(new FlowEvent(FlowEventKind.RunFinished, null, null) { Text = status.ToString() });
        return new FlowRunResult { RunId = runId, Status = status, Outputs = outputs, Nodes = nodes, Errors = errors, Trace = trace };

        async Task<NodeOutputs?> RunNodeAsync(FlowNodeSpec spec)
        {
            // Wait for the nodes this one reads; they never throw (failures come back as null).
            var upstream = new List<(string Port, Binding B)>();
            foreach ((string port, string text) in spec.Inputs)
            {
                upstream.Add((port, Binding.Parse(text)!.Value));
            }
            foreach ((_, Binding b) in upstream)
            {
                if (b.NodeId is not null)
                {
                    await results[b.NodeId].ConfigureAwait(false);
                }
            }
            Registry.TryGet(spec.Type, out IFlowNode node);
            NodeSchema schema = node.Schema;
            var sw = Stopwatch.StartNew();
            Activity activity = s_source.StartActivity("node:" + spec.Id, ActivityKind.Internal, runActivity.Context)
                ?? new Activity("node:" + spec.Id).SetIdFormat(ActivityIdFormat.W3C).SetParentId(runActivity.TraceId, runActivity.SpanId).Start();
            activity.SetTag("weft.node", spec.Id);
            activity.SetTag("weft.node_type", spec.Type);
            var usage = new NodeUsage();
            string state = "done";
            string? error = null;
            try
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    state = "cancelled";
                    Finish(NodeState.Cancelled, "run cancelled");
                    return null;
                }
                // Gather inputs.
                var values = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach ((string port, Binding b) in upstream)
                {
                    object? v;
                    if (b.NodeId is null)
                    {
                        v = flowInputs.GetValueOrDefault(b.Name);
                    }
                    else
                    {
                        NodeOutputs? up = results[b.NodeId].Result;
                        if (up is null)
                        {
                            state = "skipped";
                            error = $"upstream node '{b.NodeId}' did not produce outputs";
                            Finish(NodeState.Skipped, error);
                            return null;
                        }
                        v = up.GetValueOrDefault(b.Name);
                    }
                    PortSpec? ps = schema.Input(port);
                    if (v is Skipped)
                    {
                        if (schema.JoinsBranches)
                        {
                            continue;
                        }
                        state = "skipped";
                        Finish(NodeState.Skipped, null);
                        return SkippedOutputs(schema);
                    }
                    if (ps is not null && v is not null)
                    {
                        v = FlowValue.Coerce(v, ps.Type);
                        if (!FlowValue.Fits(v, ps.Type))
                        {
                            throw new FlowExecutionException(spec.Id, $"input '{port}' expects {ps.Type} but received a {Describe(v!)}");
                        }
                    }
                    values[port] = v;
                }

                string? key = null;
                if (options.UseCache && schema.Cacheable)
                {
                    key = CacheKey(spec, values);
                    if (Cache.TryGet(key, out NodeOutputs cached))
                    {
                        state = "cached";
                        activity.SetTag("weft.cached", true);
                        emit(new FlowEvent(FlowEventKind.Cached, spec.Id, spec.Type));
                        Finish(NodeState.Cached, null);
                        return cached;
                    }
                }

                emit(new FlowEvent(FlowEventKind.Running, spec.Id, spec.Type));
                double timeoutS = spec.Timeout > 0 ? spec.Timeout : options.NodeTimeout?.TotalSeconds ?? 0;
                using var nodeCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                if (timeoutS > 0)
                {
                    nodeCts.CancelAfter(TimeSpan.FromSeconds(timeoutS));
                }
                var ctx = new NodeContext(spec.Id, schema, values, spec.Params, Services, flow.BaseDirectory, emit, usage, nodeCts.Token);
                NodeOutputs outputs;
                try
                {
                    // Task.Run: nodes that compute synchronously still leave the scheduler free.
                    Task<NodeOutputs> work = Task.Run(() => node.ExecuteAsync(ctx).AsTask(), nodeCts.Token);
                    try
                    {
                        outputs = await work.WaitAsync(nodeCts.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (nodeCts.IsCancellationRequested)
                    {
                        // Give the node time to observe its token and release what it holds (a model context, a file)
                        // before the run returns and the caller may dispose the services; nodes check between tokens,
                        // so this is milliseconds. A node that ignores its token is abandoned after the grace period.
                        await Task.WhenAny(work, Task.Delay(CancellationGrace, CancellationToken.None)).ConfigureAwait(false);
                        throw;
                    }
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && nodeCts.IsCancellationRequested)
                {
                    throw new FlowExecutionException(spec.Id, $"timed out after {timeoutS:0.###} s");
                }
                foreach (PortSpec o in schema.Outputs)
                {
                    if (!outputs.ContainsKey(o.Name))
                    {
                        throw new FlowExecutionException(spec.Id, $"the '{spec.Type}' node produced no value for output '{o.Name}'");
                    }
                }
                if (key is not null)
                {
                    Cache.Set(key, outputs);
                }
                Finish(NodeState.Done, null);
                return outputs;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                state = "cancelled";
                error = "run cancelled";
                Finish(NodeState.Cancelled, error);
                return null;
            }
            catch (Exception e)
            {
                state = "failed";
                error = e is FlowExecutionException fe && fe.NodeId == spec.Id ? e.Message[(e.Message.IndexOf(": ", StringComparison.Ordinal) + 2)..] : $"{e.GetType().Name}: {e.Message}";
                Finish(NodeState.Failed, error);
                return null;
            }
            finally
            {
                activity.SetTag("weft.status", state);
                activity.Stop();
                TraceSpan span = ToSpan(activity, spec.Id, spec.Type, state, error, usage);
                lock (gate)
                {
                    spans.Add(span);
                }
            }

            void Finish(NodeState st, string? message)
            {
                lock (gate)
                {
                    nodes[spec.Id] = new NodeRunInfo(st, message, sw.Elapsed);
                    if (st == NodeState.Failed)
                    {
                        errors.Add(new FlowError(spec.Id, null, "node-failed", message ?? "failed"));
                    }
                }
                switch (st)
                {
                    case NodeState.Done:
                        emit(new FlowEvent(FlowEventKind.Done, spec.Id, spec.Type) { Duration = sw.Elapsed });
                        break;
                    case NodeState.Failed:
                    case NodeState.Cancelled:
                        emit(new FlowEvent(FlowEventKind.Failed, spec.Id, spec.Type) { Error = message });
                        break;
                    case NodeState.Skipped:
                        emit(new FlowEvent(FlowEventKind.Skipped, spec.Id, spec.Type) { Error = message });
                        break;
                }
            }
        }

        TraceSpan ToSpan(Activity a, string? nodeId, string? type, string status, string? err, NodeUsage? u)
        {
            int tokens = (u?.PromptTokens ?? 0) + (u?.CompletionTokens ?? 0);
            double cpt = u?.Model is string m && Services.CostPerToken.TryGetValue(m, out double c) ? c : 0;
            return new TraceSpan
            {
                TraceId = a.TraceId.ToString(),
                SpanId = a.SpanId.ToString(),
                ParentId = a.ParentSpanId == default ? null : a.ParentSpanId.ToString(),
                Name = a.OperationName,
                Node = nodeId,
                Type = type,
                Start = a.StartTimeUtc,
                End = a.StartTimeUtc + a.Duration,
                DurationMs = a.Duration.TotalMilliseconds,
                Status = status,
                Error = err,
                Model = u?.Model,
                PromptTokens = u?.PromptTokens ?? 0,
                CompletionTokens = u?.CompletionTokens ?? 0,
                MsPerToken = tokens > 0 ? a.Duration.TotalMilliseconds / tokens : 0,
                CostPerToken = cpt,
                Cost = cpt * tokens,
            };
        }
    }

    private static NodeOutputs SkippedOutputs(NodeSchema schema)
    {
        var o = new NodeOutputs();
        foreach (PortSpec p in schema.Outputs)
        {
            o[p.Name] = Skipped.Value;
        }
        return o;
    }

    private static string Describe(object v) => v switch
    {
        string => "string",
        double => "number",
        bool => "bool",
        List<object?> => "list",
        float[] => "vector",
        IDictionary<string, object?> => "json object",
        _ => v.GetType().Name,
    };

    private static string CacheKey(FlowNodeSpec spec, Dictionary<string, object?> values)
    {
        var sb = new StringBuilder();
        sb.Append(spec.Type).Append('\n');
        foreach ((string k, JsonElement v) in spec.Params.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            string raw = v.ValueKind == JsonValueKind.String ? FlowEnvironment.Substitute(v.GetString()!) : v.GetRawText();
            sb.Append(k).Append('=').Append(raw).Append('\n');
        }
        foreach ((string k, object? v) in values.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            sb.Append(k).Append(':').Append(FlowValue.Hash(v)).Append('\n');
        }
        return FlowValue.Hash(sb.ToString());
    }

    private static Dictionary<string, object?> ResolveFlowInputs(FlowDocument flow, IReadOnlyDictionary<string, object?> given)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        var errors = new List<FlowError>();
        foreach (string name in given.Keys)
        {
            if (!flow.Inputs.ContainsKey(name))
            {
                errors.Add(new FlowError(null, name, "unknown-flow-input", $"input '{name}' is not declared by the flow (inputs: {string.Join(", ", flow.Inputs.Keys)})"));
            }
        }
        foreach ((string name, FlowInputSpec spec) in flow.Inputs)
        {
            object? v;
            if (given.TryGetValue(name, out object? g))
            {
                v = g;
            }
            else if (spec.Default is JsonElement d)
            {
                v = FlowValue.FromJson(d);
            }
            else
            {
                errors.Add(new FlowError(null, name, "missing-flow-input", $"flow input '{name}' ({spec.Type}) has no value and no default"));
                continue;
            }
            try
            {
                v = FlowValue.Coerce(v, spec.Type);
            }
            catch (FormatException)
            {
                errors.Add(new FlowError(null, name, "type-mismatch", $"flow input '{name}' expects {spec.Type}, got '{FlowValue.ToText(v)}'"));
                continue;
            }
            if (v is not null && !FlowValue.Fits(v, spec.Type))
            {
                errors.Add(new FlowError(null, name, "type-mismatch", $"flow input '{name}' expects {spec.Type}, got '{FlowValue.ToText(v)}'"));
                continue;
            }
            result[name] = v;
        }
        if (errors.Count > 0)
        {
            throw new FlowValidationException(errors);
        }
        return result;
    }
}
