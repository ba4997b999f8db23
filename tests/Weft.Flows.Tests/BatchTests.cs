using System.Text.Json.Nodes;
using Weft.Flows.Batch;

namespace Weft.Flows.Tests;

public class BatchTests
{
    private const string Flow = """
        { "version": 1, "inputs": { "prompt": {}, "reference": {} }, "nodes": [
          { "id": "g", "type": "llm_completion", "params": { "model": "MODEL", "max_tokens": 12 }, "inputs": { "prompt": "inputs.prompt" } },
          { "id": "r", "type": "rouge", "inputs": { "prediction": "g.text", "reference": "inputs.reference" } } ],
          "outputs": { "text": "g.text", "rouge1": "r.rouge1" } }
        """;

    private static string Dir() => Path.Combine(Path.GetTempPath(), $"weft-batch-{Guid.NewGuid():N}");

    private static List<string> Stripped(string dir) => File.ReadAllLines(Path.Combine(dir, BatchRunner.OutputsFile))
        .Select(l => { JsonObject o = JsonNode.Parse(l)!.AsObject(); o.Remove("ms"); return o.ToJsonString(); }).ToList();

    [Test]
    public async Task KilledAndResumedRunEqualsUninterruptedRun()
    {
        string root = Dir();
        Directory.CreateDirectory(root);
        try
        {
            string data = Path.Combine(root, "data.jsonl");
            string[] starts = ["Once upon a time", "The cat", "Lily went", "Tom saw a", "One day", "The sun", "A little bird", "Sam and Max"];
            var lines = starts.Select(s => new JsonObject { ["q"] = s, ["reference"] = "the cat was happy" }.ToJsonString()).ToList();
            lines.Insert(3, "{ this is not json");
            File.WriteAllLines(data, lines);
            var maps = new Dictionary<string, string> { ["prompt"] = "${data.q}" };
            FlowDocument flow = TestFlows.Parse(Flow);
            using var services = new FlowServices();
            var runner = new BatchRunner(new FlowExecutor(TestFlows.Registry(), services, new FlowCache()));

            string full = Path.Combine(root, "full");
            BatchSummary s = await runner.RunAsync(flow, data, new BatchOptions { OutDir = full, Maps = maps, Concurrency = 2 });
            Assert.That(s.Lines, Is.EqualTo(9));
            Assert.That(s.Ok, Is.EqualTo(8));
            Assert.That(s.Errors, Is.EqualTo(1));
            string err = File.ReadAllLines(Path.Combine(full, BatchRunner.OutputsFile))[3];
            Assert.That(err, Does.Contain("\"line\":4").And.Contain("data.jsonl:4: malformed JSON"));
            Assert.That(s.Metrics["rouge1"].Count, Is.EqualTo(8));
            Assert.That(File.ReadAllText(Path.Combine(full, "metrics.md")), Does.Contain("| rouge1 |"));
            Assert.That(File.ReadAllLines(Path.Combine(full, BatchRunner.TracesFile)), Has.Length.EqualTo(8));

            // Fresh executor (no cache) so the interrupted run really recomputes; cancel after 3 lines.
            string part = Path.Combine(root, "part");
            var runner2 = new BatchRunner(new FlowExecutor(TestFlows.Registry(), services, new FlowCache()));
            using var cts = new CancellationTokenSource();
            Assert.CatchAsync<OperationCanceledException>(() => runner2.RunAsync(flow, data, new BatchOptions { OutDir = part, Maps = maps, Concurrency = 1 },
                p => { if (p.Done >= 3) cts.Cancel(); }, cts.Token));
            int before = File.ReadAllLines(Path.Combine(part, BatchRunner.ResultsFile)).Length;
            Assert.That(before, Is.InRange(3, 4));
            Assert.That(File.Exists(Path.Combine(part, BatchRunner.OutputsFile)), Is.False);
            // Simulate a kill mid-write: a torn last line.
            File.AppendAllText(Path.Combine(part, BatchRunner.ResultsFile), "{\"line\":7,\"sta");
            BatchSummary resumed = await runner2.RunAsync(flow, data, new BatchOptions { OutDir = part, Maps = maps, Concurrency = 3 });
            Assert.That(resumed.Resumed, Is.EqualTo(before));
            Assert.That(Stripped(part), Is.EqualTo(Stripped(full)));
            var lineNos = File.ReadAllLines(Path.Combine(part, BatchRunner.ResultsFile)).Select(l => JsonNode.Parse(l)!["line"]!.GetValue<int>()).OrderBy(x => x).ToList();
            Assert.That(lineNos, Is.EqualTo(Enumerable.Range(1, 9).ToList()));

            // A different --map refuses to resume; --restart starts over.
            var other = new Dictionary<string, string> { ["prompt"] = "${data.q}!" };
            Assert.ThrowsAsync<InvalidOperationException>(() => runner2.RunAsync(flow, data, new BatchOptions { OutDir = part, Maps = other }));
            BatchSummary restarted = await runner2.RunAsync(flow, data, new BatchOptions { OutDir = part, Maps = other, Restart = true });
            Assert.That(restarted.Resumed, Is.EqualTo(0));

            // Evaluation over the run's outputs.
            FlowDocument eval = FlowDocument.Parse("""
                { "version": 1, "inputs": { "text": {}, "reference": {} }, "nodes": [ { "id": "f", "type": "token_f1", "inputs": { "prediction": "inputs.text", "reference": "inputs.reference" } } ], "outputs": { "f1": "f.score" } }
                """);
            BatchSummary ev = await runner.EvalAsync(eval, full, new BatchOptions { OutDir = Path.Combine(full, "eval") });
            Assert.That(ev.Ok, Is.EqualTo(8));
            Assert.That(ev.Metrics.ContainsKey("f1"), Is.True);
            Assert.That(BatchRunner.ReadMetrics(full).Metrics["rouge1"].Mean, Is.EqualTo(s.Metrics["rouge1"].Mean).Within(1e-12));
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    [Test]
    public async Task FailingAndTimedOutLinesAreCapturedAndTheRunGoesOn()
    {
        string root = Dir();
        Directory.CreateDirectory(root);
        try
        {
            string data = Path.Combine(root, "d.jsonl");
            File.WriteAllLines(data, ["{\"x\": 1}", "{\"x\": 50}", "[1, 2]", "", "{\"x\": 2}"]);
            FlowDocument flow = FlowDocument.Parse("""
                { "version": 1, "inputs": { "x": { "type": "number" } }, "nodes": [
                  { "id": "c", "type": "condition", "params": { "operator": "gt", "operand": "10" }, "inputs": { "value": "inputs.x" } },
                  { "id": "f", "type": "fail", "inputs": { "value": "c.then" } },
                  { "id": "s", "type": "sleep", "params": { "ms": 10 }, "inputs": { "value": "inputs.x" } } ],
                  "outputs": { "x": "s.value" } }
                """);
            using var services = new FlowServices();
            var runner = new BatchRunner(new FlowExecutor(TestFlows.Registry(), services));
            BatchSummary s = await runner.RunAsync(flow, data, new BatchOptions { OutDir = Path.Combine(root, "out"), Concurrency = 2 });
            Assert.That(s.Lines, Is.EqualTo(4));
            Assert.That(s.Ok, Is.EqualTo(2));
            string[] outLines = File.ReadAllLines(Path.Combine(root, "out", BatchRunner.OutputsFile));
            Assert.That(outLines[1], Does.Contain("line 2: node 'f'").And.Contain("boom"));
            Assert.That(outLines[2], Does.Contain("d.jsonl:3: expected a JSON object"));
            Assert.That(JsonNode.Parse(outLines[3])!["line"]!.GetValue<int>(), Is.EqualTo(5));
            Assert.That(s.Metrics["x"].Mean, Is.EqualTo(1.5));

            FlowDocument slow = FlowDocument.Parse("""{ "version": 1, "inputs": { "x": {} }, "nodes": [ { "id": "s", "type": "sleep", "params": { "ms": 20000 } } ] }""");
            var sw = System.Diagnostics.Stopwatch.StartNew();
            BatchSummary t = await runner.RunAsync(slow, data, new BatchOptions { OutDir = Path.Combine(root, "slow"), LineTimeout = TimeSpan.FromMilliseconds(100), Concurrency = 4 });
            Assert.That(sw.Elapsed.TotalSeconds, Is.LessThan(5));
            Assert.That(t.Errors, Is.EqualTo(4));
            Assert.That(File.ReadAllText(Path.Combine(root, "slow", BatchRunner.OutputsFile)), Does.Contain("line 1: timed out after 0.1 s"));
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }
}
