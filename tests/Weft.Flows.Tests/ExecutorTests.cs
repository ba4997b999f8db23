using System.Diagnostics;

namespace Weft.Flows.Tests;

public class ExecutorTests
{
    [Test]
    public async Task ParallelBranchesOverlapInTheTrace()
    {
        FlowRunResult r = await TestFlows.Run("""
            { "version": 1, "nodes": [
              { "id": "a", "type": "sleep", "params": { "ms": 400 } },
              { "id": "b", "type": "sleep", "params": { "ms": 400 } } ] }
            """);
        Assert.That(r.Status, Is.EqualTo(FlowRunStatus.Succeeded));
        TraceSpan a = r.Trace.Spans.Single(s => s.Node == "a"), b = r.Trace.Spans.Single(s => s.Node == "b");
        Assert.That(a.Start < b.End && b.Start < a.End, Is.True, $"a {a.Start:O}-{a.End:O}, b {b.Start:O}-{b.End:O}");
        TraceSpan run = r.Trace.Spans[0];
        Assert.That(run.DurationMs, Is.LessThan(780));
        Assert.That(a.ParentId, Is.EqualTo(run.SpanId));
        Assert.That(a.TraceId, Is.EqualTo(run.TraceId));
    }

    [Test]
    public async Task FailingNodeIsNamedWhileIndependentBranchesFinish()
    {
        FlowRunResult r = await TestFlows.Run("""
            { "version": 1, "nodes": [
              { "id": "bad", "type": "fail" },
              { "id": "after", "type": "output", "inputs": { "value": "bad.value" } },
              { "id": "good", "type": "sleep", "params": { "ms": 150 }, "inputs": { "value": "inputs.x" } } ],
              "inputs": { "x": { "type": "string" } }, "outputs": { "good": "good.value", "after": "after.value" } }
            """, ("x", "hello"));
        Assert.That(r.Status, Is.EqualTo(FlowRunStatus.Failed));
        Assert.That(r.Errors.Single().NodeId, Is.EqualTo("bad"));
        Assert.That(r.Errors.Single().ToString(), Does.Contain("'bad'").And.Contain("boom"));
        Assert.That(r.Nodes["good"].State, Is.EqualTo(NodeState.Done));
        Assert.That(r.Nodes["after"].State, Is.EqualTo(NodeState.Skipped));
        Assert.That(r.Outputs["good"], Is.EqualTo("hello"));
        Assert.That(r.Outputs.ContainsKey("after"), Is.False);
    }

    [Test]
    public async Task CancellationStopsARunWithinASecond()
    {
        using var services = new FlowServices();
        var exec = new FlowExecutor(TestFlows.Registry(), services);
        var flow = FlowDocument.Parse("""{ "version": 1, "nodes": [ { "id": "a", "type": "sleep", "params": { "ms": 30000 } }, { "id": "b", "type": "sleep", "params": { "ms": 30000 } } ] }""");
        using var cts = new CancellationTokenSource(200);
        var sw = Stopwatch.StartNew();
        FlowRunResult r = await exec.RunAsync(flow, new Dictionary<string, object?>(), null, cts.Token);
        Assert.That(sw.Elapsed.TotalSeconds, Is.LessThan(1.0));
        Assert.That(r.Status, Is.EqualTo(FlowRunStatus.Cancelled));
        Assert.That(r.Nodes["a"].State, Is.EqualTo(NodeState.Cancelled));
    }

    [Test]
    public async Task LlmGenerationIsCancelledWithinASecond()
    {
        using var services = new FlowServices();
        var exec = new FlowExecutor(TestFlows.Registry(), services);
        var flow = TestFlows.Parse("""
            { "version": 1, "inputs": { "p": {} }, "nodes": [ { "id": "g", "type": "llm_completion", "params": { "model": "MODEL", "max_tokens": -1, "temperature": 1.0 }, "inputs": { "prompt": "inputs.p" } } ] }
            """);
        using var cts = new CancellationTokenSource();
        int texts = 0;
        var sw = Stopwatch.StartNew();
        Task<FlowRunResult> run = exec.RunAsync(flow, new Dictionary<string, object?> { ["p"] = "Once" }, new FlowRunOptions
        {
            OnEvent = e => { if (e.Kind == FlowEventKind.Text && Interlocked.Increment(ref texts) == 5) { sw.Restart(); cts.Cancel(); } },
        }, cts.Token);
        FlowRunResult r = await run;
        Assert.That(sw.Elapsed.TotalSeconds, Is.LessThan(1.0));
        Assert.That(texts, Is.GreaterThanOrEqualTo(5));
        Assert.That(r.Status, Is.EqualTo(FlowRunStatus.Cancelled));
    }

    [Test]
    public async Task ReRunReportsUnchangedNodesAsCached()
    {
        using var services = new FlowServices();
        var exec = new FlowExecutor(TestFlows.Registry(), services);
        var flow = FlowDocument.Parse("""
            { "version": 1, "inputs": { "x": {} }, "nodes": [
              { "id": "s", "type": "sleep", "params": { "ms": 50 }, "inputs": { "value": "inputs.x" } },
              { "id": "t", "type": "prompt_template", "params": { "template": "<{{ v }}>" }, "inputs": { "v": "s.value" } } ], "outputs": { "o": "t.text" } }
            """);
        var events = new System.Collections.Concurrent.ConcurrentBag<FlowEvent>();
        FlowRunResult r1 = await exec.RunAsync(flow, new Dictionary<string, object?> { ["x"] = "a" });
        FlowRunResult r2 = await exec.RunAsync(flow, new Dictionary<string, object?> { ["x"] = "a" }, new FlowRunOptions { OnEvent = events.Add });
        FlowRunResult r3 = await exec.RunAsync(flow, new Dictionary<string, object?> { ["x"] = "b" });
        Assert.That(r1.Nodes["s"].State, Is.EqualTo(NodeState.Done));
        Assert.That(r2.Nodes["s"].State, Is.EqualTo(NodeState.Cached));
        Assert.That(r2.Nodes["t"].State, Is.EqualTo(NodeState.Cached));
        Assert.That(events.Count(e => e.Kind == FlowEventKind.Cached), Is.EqualTo(2));
        Assert.That(r2.Outputs["o"], Is.EqualTo("<a>"));
        Assert.That(r3.Nodes["s"].State, Is.EqualTo(NodeState.Done));
        Assert.That(r3.Outputs["o"], Is.EqualTo("<b>"));
    }

    [Test]
    public async Task NodeTimeoutNamesTheNode()
    {
        FlowRunResult r = await TestFlows.Run("""{ "version": 1, "nodes": [ { "id": "slow", "type": "sleep", "timeout": 0.1, "params": { "ms": 5000 } } ] }""");
        Assert.That(r.Status, Is.EqualTo(FlowRunStatus.Failed));
        Assert.That(r.Errors.Single().ToString(), Does.Contain("'slow'").And.Contain("timed out"));
    }

    [Test]
    public async Task EventsStreamTokensAndTraceCountsThem()
    {
        using var services = new FlowServices();
        var exec = new FlowExecutor(TestFlows.Registry(), services);
        var flow = TestFlows.Parse("""
            { "version": 1, "inputs": { "p": {} }, "nodes": [
              { "id": "a", "type": "llm_completion", "params": { "model": "MODEL", "max_tokens": 24 }, "inputs": { "prompt": "inputs.p" } },
              { "id": "b", "type": "llm_completion", "params": { "model": "MODEL", "max_tokens": 24 }, "inputs": { "prompt": "inputs.p" } } ],
              "outputs": { "a": "a.text", "b": "b.text" } }
            """);
        var streamed = new System.Text.StringBuilder();
        var kinds = new List<FlowEventKind>();
        FlowRunResult r = await exec.RunAsync(flow, new Dictionary<string, object?> { ["p"] = "Once upon a time" }, new FlowRunOptions
        {
            OnEvent = e => { lock (kinds) { kinds.Add(e.Kind); if (e.Kind == FlowEventKind.Text && e.NodeId == "a") streamed.Append(e.Text); } },
        });
        Assert.That(r.Status, Is.EqualTo(FlowRunStatus.Succeeded), string.Join("; ", r.Errors));
        Assert.That(streamed.ToString(), Is.EqualTo(r.Outputs["a"]));
        Assert.That(r.Outputs["a"], Is.EqualTo(r.Outputs["b"])); // greedy: deterministic
        Assert.That(kinds, Does.Contain(FlowEventKind.Queued).And.Contain(FlowEventKind.Running).And.Contain(FlowEventKind.Done).And.Contain(FlowEventKind.RunFinished));
        TraceSpan span = r.Trace.Spans.Single(s => s.Node == "a");
        Assert.That(span.CompletionTokens, Is.EqualTo(24));
        Assert.That(span.PromptTokens, Is.GreaterThan(1));
        Assert.That(span.Model, Is.EqualTo("stories260K.gguf"));
        Assert.That(services.ModelLoads, Is.EqualTo(1));
        string path = Path.Combine(Path.GetTempPath(), $"weft-trace-{Guid.NewGuid():N}.json");
        r.Trace.Save(path);
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
        Assert.That(doc.RootElement.GetProperty("spans").GetArrayLength(), Is.EqualTo(3));
        File.Delete(path);
    }

    [Test]
    public async Task MissingFlowInputIsAValidationError()
    {
        var e = Assert.ThrowsAsync<FlowValidationException>(() => TestFlows.Run("""{ "version": 1, "inputs": { "n": { "type": "number" } }, "nodes": [] }""", ("n", "abc")))!;
        Assert.That(e.Errors.Single().Port, Is.EqualTo("n"));
        await Task.CompletedTask;
    }

    [Test]
    public void EnvSubstitution()
    {
        Environment.SetEnvironmentVariable("WEFT_FLOW_TEST_VAR", "xyz");
        Assert.That(FlowEnvironment.Substitute("a/${env.WEFT_FLOW_TEST_VAR}/b"), Is.EqualTo("a/xyz/b"));
        Assert.That(FlowEnvironment.Substitute("${env.WEFT_FLOW_UNSET_VAR:-dflt}"), Is.EqualTo("dflt"));
        Assert.That(FlowEnvironment.Substitute("$${env.X}"), Is.EqualTo("${env.X}"));
        Assert.Throws<FlowExecutionException>(() => FlowEnvironment.Substitute("${env.WEFT_FLOW_UNSET_VAR}"));
    }
}
