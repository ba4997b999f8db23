namespace Weft.Flows.Tests;

public class ValidationTests
{
    private static List<FlowError> Errors(string json) => FlowValidator.Validate(FlowDocument.Parse(json), TestFlows.Registry());

    [Test]
    public void ValidFlowHasNoErrors() => Assert.That(Errors("""
        { "version": 1, "inputs": { "q": { "type": "string" } },
          "nodes": [ { "id": "t", "type": "prompt_template", "params": { "template": "Q: {{ q }}" }, "inputs": { "q": "inputs.q" }, "ui": { "pos": [1, 2] } } ],
          "outputs": { "text": "t.text" } }
        """), Is.Empty);

    [TestCase("""{ "version": 2, "nodes": [] }""", null, null, "version")]
    [TestCase("""{ "version": 1, "nodes": [ { "id": "a", "type": "nope" } ] }""", "a", null, "unknown-type")]
    [TestCase("""{ "version": 1, "nodes": [ { "id": "a", "type": "regex_extract", "params": { "pattern": "x" } } ] }""", "a", "text", "missing-input")]
    [TestCase("""{ "version": 1, "nodes": [ { "id": "a", "type": "text" }, { "id": "b", "type": "output", "inputs": { "value": "a.text", "bogus": "a.text" } } ] }""", "b", "bogus", "unknown-input")]
    [TestCase("""{ "version": 1, "nodes": [ { "id": "a", "type": "text" }, { "id": "b", "type": "rerank", "inputs": { "query": "a.text", "documents": "a.text" } } ] }""", "b", "documents", "type-mismatch")]
    [TestCase("""{ "version": 1, "nodes": [ { "id": "a", "type": "output", "inputs": { "value": "b.value" } }, { "id": "b", "type": "output", "inputs": { "value": "a.value" } } ] }""", null, null, "cycle")]
    [TestCase("""{ "version": 1, "nodes": [ { "id": "a", "type": "chunk", "params": { "chunk_tokens": 2 }, "inputs": { "text": "inputs.t" } } ], "inputs": { "t": {} } }""", "a", "chunk_tokens", "bad-param")]
    [TestCase("""{ "version": 1, "nodes": [ { "id": "a", "type": "condition", "params": { "operator": "between" }, "inputs": { "value": "inputs.t" } } ], "inputs": { "t": {} } }""", "a", "operator", "bad-param")]
    [TestCase("""{ "version": 1, "nodes": [ { "id": "a", "type": "text", "params": { "txt": "x" } } ] }""", "a", "txt", "unknown-param")]
    [TestCase("""{ "version": 1, "nodes": [ { "id": "a", "type": "regex_extract", "inputs": { "text": "inputs.t" } } ], "inputs": { "t": {} } }""", "a", "pattern", "missing-param")]
    [TestCase("""{ "version": 1, "nodes": [ { "id": "a", "type": "output", "inputs": { "value": "zz.text" } } ] }""", "a", "value", "unknown-node")]
    [TestCase("""{ "version": 1, "nodes": [ { "id": "t", "type": "text" }, { "id": "a", "type": "output", "inputs": { "value": "t.nope" } } ] }""", "a", "value", "unknown-port")]
    [TestCase("""{ "version": 1, "nodes": [ { "id": "a", "type": "output", "inputs": { "value": "inputs.missing" } } ] }""", "a", "value", "unknown-flow-input")]
    [TestCase("""{ "version": 1, "nodes": [ { "id": "a", "type": "output", "inputs": { "value": "nodot" } } ] }""", "a", "value", "bad-binding")]
    [TestCase("""{ "version": 1, "nodes": [ { "id": "a", "type": "text" }, { "id": "a", "type": "text" } ] }""", "a", null, "duplicate-id")]
    [TestCase("""{ "version": 1, "nodes": [ { "id": "a.b", "type": "text" } ] }""", "a.b", null, "bad-id")]
    public void EachErrorIsReportedPerNodeAndPort(string json, string? node, string? port, string code)
    {
        List<FlowError> errors = Errors(json);
        Assert.That(errors.Any(e => e.Code == code && e.NodeId == (node ?? e.NodeId) && (port is null || e.Port == port)), Is.True, string.Join("\n", errors));
        if (node is not null)
        {
            Assert.That(errors.First(e => e.Code == code).ToString(), Does.Contain($"'{node}'"));
        }
    }

    [Test]
    public void MalformedJsonNamesTheLine()
    {
        var e = Assert.Throws<FlowFormatException>(() => FlowDocument.Parse("{\n \"version\": 1,\n \"nodes\": [ }", "x.flow.json"))!;
        Assert.That(e.Message, Does.Contain("x.flow.json").And.Contain("line 3"));
    }

    [Test]
    public void RoundTripKeepsUiData()
    {
        FlowDocument d = FlowDocument.Parse("""{ "version": 1, "nodes": [ { "id": "a", "type": "text", "ui": { "pos": [5, 6] } } ], "ui": { "zoom": 2 } }""");
        string json = d.ToJson();
        Assert.That(json, Does.Contain("\"pos\"").And.Contain("\"zoom\""));
        Assert.That(FlowDocument.Parse(json).Nodes[0].Ui!.Value.GetProperty("pos")[1].GetInt32(), Is.EqualTo(6));
    }

    [Test]
    public void RegistryExportsComfyLikeSchemas()
    {
        var reg = TestFlows.Registry();
        using var doc = System.Text.Json.JsonDocument.Parse(reg.ExportSchemasJson());
        var llm = doc.RootElement.GetProperty("llm_completion");
        Assert.That(llm.GetProperty("category").GetString(), Is.EqualTo("llm"));
        Assert.That(llm.GetProperty("inputs").GetProperty("required").GetProperty("prompt")[0].GetString(), Is.EqualTo("string"));
        var temp = llm.GetProperty("params").GetProperty("temperature");
        Assert.That(temp[0].GetString(), Is.EqualTo("FLOAT"));
        Assert.That(temp[1].GetProperty("max").GetDouble(), Is.EqualTo(10));
        Assert.That(doc.RootElement.GetProperty("condition").GetProperty("params").GetProperty("operator")[1].GetProperty("options").GetArrayLength(), Is.EqualTo(7));
        Assert.Throws<ArgumentException>(() => reg.Add(new Weft.Flows.Nodes.DelegateNode(new NodeSchema { Name = "text" }, c => new NodeOutputs())));
    }

    [Test]
    public void ModuleRegistersNodesAndHostNodes()
    {
        var b = new Weft.Core.EngineBuilder();
        b.AddModule<FlowNodesModule>();
        b.AddNode(new Weft.Flows.Nodes.DelegateNode(new NodeSchema { Name = "host_upper", Inputs = [new PortSpec("text", PortTypes.String)], Outputs = [new PortSpec("text", PortTypes.String)] },
            c => new NodeOutputs { ["text"] = c.GetString("text").ToUpperInvariant() }));
        b.AddAgentTool(new DelegateTool("echo", "repeats its input", (s, _) => Task.FromResult(s)));
        Weft.Core.Engine engine = b.Build();
        var reg = NodeRegistry.FromEngine(engine);
        Assert.That(reg.TryGet("host_upper", out _) && reg.TryGet("llm_completion", out _) && reg.TryGet("llm_judge", out _), Is.True);
        using FlowServices services = FlowServices.FromEngine(engine);
        Assert.That(services.Tool("echo"), Is.Not.Null);
        Assert.That(services.Registry!.TryGet("host_upper", out _), Is.True);
    }
}
