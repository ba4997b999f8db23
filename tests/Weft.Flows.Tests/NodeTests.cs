namespace Weft.Flows.Tests;

public class NodeTests
{
    /// <summary>Answers from a script, one reply per call, recording prompts.</summary>
    private sealed class ScriptedGenerator(params string[] replies) : ITextGenerator
    {
        private int _i;
        public List<string> Prompts { get; } = new();
        public string Name => "scripted";
        public Task<TextGenerationResult> GenerateAsync(string prompt, TextGenerationOptions o, Action<string>? onText, CancellationToken ct)
        {
            lock (Prompts)
            {
                Prompts.Add(prompt);
                string r = replies[Math.Min(_i++, replies.Length - 1)];
                onText?.Invoke(r);
                return Task.FromResult(new TextGenerationResult(r, prompt.Length, r.Length, "stop"));
            }
        }
    }

    /// <summary>Runs one node; inputs written "=JSON" are fed from constant nodes; returns every output port.</summary>
    private static async Task<Dictionary<string, object?>> One(string type, string paramsJson, string inputsJson, FlowServices? services = null)
    {
        FlowDocument flow = TestFlows.Parse($$"""{ "version": 1, "nodes": [ { "id": "n", "type": "{{type}}", "params": {{paramsJson}}, "inputs": {{inputsJson}} } ] }""");
        NodeRegistry reg = TestFlows.Registry();
        foreach ((string port, string b) in flow.Nodes[0].Inputs.ToList())
        {
            if (b.StartsWith('='))
            {
                string id = "c_" + port;
                flow.Nodes.Add(new FlowNodeSpec { Id = id, Type = "constant", Params = new() { ["value"] = System.Text.Json.JsonDocument.Parse(b[1..]).RootElement.Clone() } });
                flow.Nodes[0].Inputs[port] = id + ".value";
            }
        }
        reg.TryGet(type, out IFlowNode node);
        foreach (PortSpec o in node.Schema.Outputs)
        {
            flow.Outputs[o.Name] = "n." + o.Name;
        }
        bool own = services is null;
        services ??= new FlowServices();
        try
        {
            FlowRunResult r = await new FlowExecutor(reg, services).RunAsync(flow, new Dictionary<string, object?>());
            Assert.That(r.Status, Is.EqualTo(FlowRunStatus.Succeeded), string.Join("; ", r.Errors));
            return r.Outputs;
        }
        finally
        {
            if (own)
            {
                services.Dispose();
            }
        }
    }

    [Test]
    public async Task TextConstantConcatOutput()
    {
        Assert.That((await One("text", """{ "text": "hi ${env.WEFT_FLOW_UNSET:-there}" }""", "{}"))["text"], Is.EqualTo("hi there"));
        Assert.That((await One("constant", """{ "value": [1, "a"] }""", "{}"))["value"], Is.EqualTo(new List<object?> { 1.0, "a" }));
        Assert.That((await One("concat", """{ "separator": "-" }""", """{ "b": "=2", "a": "=\"x\"" }"""))["text"], Is.EqualTo("x-2"));
        Assert.That((await One("output", "{}", """{ "value": "=3" }"""))["value"], Is.EqualTo(3.0));
    }

    [Test]
    public async Task PromptTemplateRendersInputs() =>
        Assert.That((await One("prompt_template", """{ "template": "Q: {{ q }} ({{ items | length }}) {% for i in items %}[{{ i }}]{% endfor %}" }""", """{ "q": "=\"why\"", "items": "=[\"a\",\"b\"]" }"""))["text"],
            Is.EqualTo("Q: why (2) [a][b]"));

    [Test]
    public async Task JsonParseAndExtract()
    {
        var parsed = await One("json_parse", "{}", """{ "text": "=\"Sure: {\\\"a\\\": {\\\"b\\\": [10, 20]}} done\"" }""");
        var d = (Dictionary<string, object?>)parsed["value"]!;
        Assert.That(((List<object?>)((Dictionary<string, object?>)d["a"]!)["b"]!)[1], Is.EqualTo(20.0));
        var ex = await One("json_extract", """{ "path": "a.b[-1]" }""", """{ "value": "={\"a\": {\"b\": [10, 20]}}" }""");
        Assert.That(ex["value"], Is.EqualTo(20.0));
        Assert.That(ex["found"], Is.EqualTo(true));
        Assert.That((await One("json_extract", """{ "path": "a.c" }""", """{ "value": "={\"a\": {}}" }"""))["found"], Is.EqualTo(false));
    }

    [Test]
    public async Task RegexExtract()
    {
        var r = await One("regex_extract", """{ "pattern": "(\\d+) apples", "group": 1 }""", """{ "text": "=\"3 apples and 12 apples\"" }""");
        Assert.That(r["match"], Is.EqualTo("3"));
        Assert.That(r["matches"], Is.EqualTo(new List<object?> { "3", "12" }));
    }

    [Test]
    public async Task ConditionSkipsTheInactiveBranchAndCoalesceJoins()
    {
        const string Flow = """
            { "version": 1, "inputs": { "x": { "type": "number" } }, "nodes": [
              { "id": "c", "type": "condition", "params": { "operator": "gt", "operand": "10" }, "inputs": { "value": "inputs.x" } },
              { "id": "big", "type": "prompt_template", "params": { "template": "big {{ v }}" }, "inputs": { "v": "c.then" } },
              { "id": "small", "type": "prompt_template", "params": { "template": "small {{ v }}" }, "inputs": { "v": "c.else" } },
              { "id": "j", "type": "coalesce", "inputs": { "a": "big.text", "b": "small.text" } } ],
              "outputs": { "r": "j.value" } }
            """;
        FlowRunResult big = await TestFlows.Run(Flow, ("x", 42.0));
        FlowRunResult small = await TestFlows.Run(Flow, ("x", "3"));
        Assert.That(big.Outputs["r"], Is.EqualTo("big 42.0")); // numbers are doubles; Jinja prints floats with ".0"
        Assert.That(big.Nodes["small"].State, Is.EqualTo(NodeState.Skipped));
        Assert.That(small.Outputs["r"], Is.EqualTo("small 3.0")); // the string "3" was coerced to the number input type
        Assert.That(small.Status, Is.EqualTo(FlowRunStatus.Succeeded));
    }

    [Test]
    public async Task MapRunsASubFlowPerItem()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"weft-map-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "sub.flow.json"), """
                { "version": 1, "inputs": { "item": {}, "prefix": {} }, "nodes": [ { "id": "t", "type": "prompt_template", "params": { "template": "{{ prefix }}{{ item }}" }, "inputs": { "item": "inputs.item", "prefix": "inputs.prefix" } } ], "outputs": { "result": "t.text" } }
                """);
            File.WriteAllText(Path.Combine(dir, "main.flow.json"), """
                { "version": 1, "inputs": { "xs": { "type": "list" } }, "nodes": [
                  { "id": "p", "type": "text", "params": { "text": "#" } },
                  { "id": "m", "type": "map", "params": { "flow": "sub.flow.json", "concurrency": 3 }, "inputs": { "items": "inputs.xs", "prefix": "p.text" } } ], "outputs": { "r": "m.results" } }
                """);
            using var services = new FlowServices();
            FlowRunResult r = await new FlowExecutor(TestFlows.Registry(), services).RunAsync(FlowDocument.Load(Path.Combine(dir, "main.flow.json")),
                new Dictionary<string, object?> { ["xs"] = new List<object?> { "a", "b", "c", "d", "e" } });
            Assert.That(r.Outputs["r"], Is.EqualTo(new List<object?> { "#a", "#b", "#c", "#d", "#e" }), string.Join("; ", r.Errors));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Test]
    public async Task LlmCompletionMatchesTheGeneratorDirectly()
    {
        var r = await One("llm_completion", """{ "model": "MODEL", "max_tokens": 20, "stop": ["xyzzy"] }""", """{ "prompt": "=\"Once upon a time\"" }""");
        using var model = Weft.Models.Llama.LlamaModel.Load(TestFlows.Model);
        using var ctx = model.CreateContext(new Weft.Models.Llama.ContextParams { Backend = Weft.Models.Llama.BackendChoice.Cpu });
        var gen = new Weft.Models.Llama.Generator(ctx);
        var sb = new System.Text.StringBuilder();
        await foreach (var t in gen.GenerateAsync("Once upon a time", new Weft.Models.Llama.GenerationParams { MaxTokens = 20, Sampling = Weft.Models.Sampling.SamplingParams.Greedy }))
        {
            sb.Append(t.Text);
        }
        Assert.That(r["text"], Is.EqualTo(sb.ToString()));
        Assert.That(r["tokens"], Is.EqualTo(20.0));
    }

    [Test]
    public async Task LlmChatUsesTheFallbackTemplate()
    {
        using var services = new FlowServices();
        var g = new ScriptedGenerator(" hello there");
        services.AddGenerator("fake", g);
        var r = await One("llm_chat", """{ "model": "fake" }""", """{ "user": "=\"hi\"", "system": "=\"be nice\"" }""", services);
        Assert.That(r["text"], Is.EqualTo("hello there"));
        Assert.That(g.Prompts[0], Is.EqualTo("system: be nice\nuser: hi\nassistant:"));
    }

    [Test]
    public async Task AgentUsesCalculatorAndHostTools()
    {
        using var services = new FlowServices();
        services.AddTool(new DelegateTool("weather", "weather in a city", (s, _) => Task.FromResult($"sunny in {s}")));
        var g = new ScriptedGenerator(" I need math.\nAction: calculator[2*(3+4)]\n", " Now weather.\nAction: weather\nAction Input: Paris\n", " Done.\nFinal Answer: 14, sunny");
        services.AddGenerator("fake", g);
        var r = await One("agent", """{ "model": "fake", "max_steps": 4 }""", """{ "question": "=\"q\"" }""", services);
        Assert.That(r["answer"], Is.EqualTo("14, sunny"));
        Assert.That(r["steps"], Is.EqualTo(2.0));
        Assert.That(r["finished"], Is.EqualTo(true));
        Assert.That(g.Prompts[1], Does.Contain("Observation: 14\n"));
        Assert.That(g.Prompts[2], Does.Contain("Observation: sunny in Paris\n"));
        Assert.That(g.Prompts[0], Does.Contain("weather: weather in a city"));

        var loop = new ScriptedGenerator("Action: calculator[1+1]");
        services.AddGenerator("loop", loop);
        var r2 = await One("agent", """{ "model": "loop", "max_steps": 3 }""", """{ "question": "=\"q\"" }""", services);
        Assert.That(r2["steps"], Is.EqualTo(3.0));
        Assert.That(r2["finished"], Is.EqualTo(false));
    }

    [Test]
    public async Task EmbedChunkIngestRetrieveRerank()
    {
        var v = (float[])(await One("embed", """{ "embedder": "hashed-64" }""", """{ "text": "=\"the cat\"" }"""))["vector"]!;
        Assert.That(v.Length, Is.EqualTo(64));
        var chunks = (List<object?>)(await One("chunk", """{ "chunk_tokens": 8, "overlap": 2 }""", """{ "text": "=\"one two three four five six seven eight nine ten eleven twelve thirteen fourteen\"" }"""))["chunks"]!;
        Assert.That(chunks.Count, Is.GreaterThanOrEqualTo(2));
        Assert.That((string)chunks[0]!, Does.StartWith("one two"));

        FlowRunResult r = await TestFlows.Run("""
            { "version": 1, "inputs": { "q": {} }, "nodes": [
              { "id": "docs", "type": "constant", "params": { "value": ["Cats purr and chase mice.", "Rockets fly to the moon with fuel.", "Dogs bark at the mailman."] } },
              { "id": "ing", "type": "ingest", "params": { "chunker": "token", "chunk_tokens": 16, "overlap": 0 }, "inputs": { "texts": "docs.value" } },
              { "id": "ret", "type": "retrieve", "params": { "mode": "lexical", "top_k": 1 }, "inputs": { "query": "inputs.q", "collection": "ing.collection" } },
              { "id": "hyb", "type": "retrieve", "params": { "mode": "hybrid", "top_k": 3 }, "inputs": { "query": "inputs.q", "collection": "ing.collection" } },
              { "id": "rr", "type": "rerank", "params": { "top_k": 1 }, "inputs": { "query": "inputs.q", "documents": "docs.value" } } ],
              "outputs": { "top": "ret.context", "n": "ing.chunks", "hyb": "hyb.documents", "rr": "rr.documents" } }
            """, ("q", "rockets moon"));
        Assert.That(r.Status, Is.EqualTo(FlowRunStatus.Succeeded), string.Join("; ", r.Errors));
        Assert.That(r.Outputs["n"], Is.EqualTo(3.0));
        Assert.That(r.Outputs["top"], Is.EqualTo("Rockets fly to the moon with fuel."));
        Assert.That(((List<object?>)r.Outputs["hyb"]!)[0], Is.EqualTo("Rockets fly to the moon with fuel."));
        Assert.That(r.Outputs["rr"], Is.EqualTo(new List<object?> { "Rockets fly to the moon with fuel." }));
    }

    [Test]
    public async Task RetrieveFromASavedIndexWithFilterAndVectorMode()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"weft-idx-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "animals.md"), "# Animals\n\nCats purr and chase mice.\n\n## Dogs\n\nDogs bark at the mailman.\n");
            File.WriteAllText(Path.Combine(dir, "space.md"), "# Space\n\nRockets fly to the moon. Cats are not astronauts.\n");
            string index = Path.Combine(dir, "index");
            string json = $$"""
                { "version": 1, "inputs": { "q": {} }, "nodes": [
                  { "id": "ing", "type": "ingest", "params": { "paths": [{{System.Text.Json.JsonSerializer.Serialize(Path.Combine(dir, "animals.md"))}}, {{System.Text.Json.JsonSerializer.Serialize(Path.Combine(dir, "space.md"))}}], "chunk_tokens": 16, "save_to": {{System.Text.Json.JsonSerializer.Serialize(index)}} } } ],
                  "outputs": { "n": "ing.chunks" } }
                """;
            FlowRunResult built = await TestFlows.Run(json, ("q", ""));
            Assert.That(built.Status, Is.EqualTo(FlowRunStatus.Succeeded), string.Join("; ", built.Errors));
            Assert.That((double)built.Outputs["n"]!, Is.GreaterThanOrEqualTo(3));
            string q = $$"""
                { "version": 1, "inputs": { "q": {} }, "nodes": [
                  { "id": "all", "type": "retrieve", "params": { "index": {{System.Text.Json.JsonSerializer.Serialize(index)}}, "mode": "lexical", "top_k": 5 }, "inputs": { "query": "inputs.q" } },
                  { "id": "space", "type": "retrieve", "params": { "index": {{System.Text.Json.JsonSerializer.Serialize(index)}}, "mode": "vector", "top_k": 5, "filter": "space.md" }, "inputs": { "query": "inputs.q" } } ],
                  "outputs": { "all": "all.sources", "space": "space.sources" } }
                """;
            FlowRunResult r = await TestFlows.Run(q, ("q", "cats"));
            Assert.That(r.Status, Is.EqualTo(FlowRunStatus.Succeeded), string.Join("; ", r.Errors));
            var all = ((List<object?>)r.Outputs["all"]!).Cast<string>().ToList();
            var space = ((List<object?>)r.Outputs["space"]!).Cast<string>().ToList();
            Assert.That(all.Any(s => s.EndsWith("animals.md")) && all.Any(s => s.EndsWith("space.md")), Is.True, string.Join(", ", all));
            Assert.That(space, Is.Not.Empty);
            Assert.That(space.All(s => s.EndsWith("space.md")), Is.True, string.Join(", ", space));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Test]
    public async Task EvaluatorNodesGiveKnownValues()
    {
        Assert.That((await One("exact_match", "{}", """{ "prediction": "=\"The cat.\"", "reference": "=\"cat\"" }"""))["score"], Is.EqualTo(1.0));
        Assert.That((await One("token_f1", "{}", """{ "prediction": "=\"cat cat\"", "reference": "=\"cat\"" }"""))["score"], Is.EqualTo(2.0 / 3).Within(1e-12));
        Assert.That((double)(await One("bleu", "{}", """{ "prediction": "=\"It is a guide to action which ensures that the military always obeys the commands of the party\"", "reference": "=\"It is a guide to action that ensures that the military will forever heed Party commands\"", "references": "=[\"It is the guiding principle which guarantees the military forces always being under the command of the Party\", \"It is the practical guide for the army always to heed the directions of the party\"]" }"""))["score"]!,
            Is.EqualTo(0.5045666840058485).Within(1e-12));
        var rouge = await One("rouge", """{ "measure": "recall" }""", """{ "prediction": "=\"the cat was found under the bed\"", "reference": "=\"the cat was under the bed\"" }""");
        Assert.That(rouge["rouge1"], Is.EqualTo(1.0));
        Assert.That(rouge["rouge2"], Is.EqualTo(0.8));
        Assert.That(rouge["rougeL"], Is.EqualTo(1.0));
        Assert.That((double)(await One("cosine_similarity", "{}", """{ "a": "=\"red apple\"", "b": "=\"red apple\"" }"""))["score"]!, Is.EqualTo(1.0).Within(1e-6));
        Assert.That((double)(await One("cosine_similarity", "{}", """{ "a": "=\"red apple\"", "b": "=\"quantum chromodynamics\"" }"""))["score"]!, Is.LessThan(0.5));
    }

    [Test]
    public async Task PerplexityPrefersTheModelsOwnContinuation()
    {
        using var services = new FlowServices();
        var own = await One("llm_completion", """{ "model": "MODEL", "max_tokens": 30 }""", """{ "prompt": "=\"Once upon a time\"" }""", services);
        string text = (string)own["text"]!;
        string scrambled = string.Join(' ', text.Split(' ').Reverse());
        var p1 = await One("perplexity", """{ "model": "MODEL" }""", $$"""{ "text": {{Json(text)}}, "context": "=\"Once upon a time\"" }""", services);
        var p2 = await One("perplexity", """{ "model": "MODEL" }""", $$"""{ "text": {{Json(scrambled)}}, "context": "=\"Once upon a time\"" }""", services);
        double a = (double)p1["ppl"]!, b = (double)p2["ppl"]!;
        Assert.That(a, Is.GreaterThan(1).And.LessThan(b));
        Assert.That(services.ModelLoads, Is.EqualTo(1));
    }

    private static string Json(string s) => System.Text.Json.JsonSerializer.Serialize("=" + System.Text.Json.JsonSerializer.Serialize(s));

    [Test]
    public async Task JudgeRunsBothOrders()
    {
        using var services = new FlowServices();
        // Always says "A": positional bias, which the two orders cancel to a tie.
        var biased = new ScriptedGenerator(" A");
        services.AddGenerator("biased", biased);
        var r = await One("llm_judge", """{ "model": "biased" }""", """{ "question": "=\"q\"", "answer_a": "=\"x\"", "answer_b": "=\"y\"" }""", services);
        Assert.That(r["score_a"], Is.EqualTo(0.5));
        Assert.That(r["winner"], Is.EqualTo("tie"));
        Assert.That(r["consistent"], Is.EqualTo(false));
        Assert.That(biased.Prompts, Has.Count.EqualTo(2));
        Assert.That(biased.Prompts[0], Does.Contain("Answer A: x\nAnswer B: y"));
        Assert.That(biased.Prompts[1], Does.Contain("Answer A: y\nAnswer B: x"));
        var fair = new ScriptedGenerator(" A", " B");
        services.AddGenerator("fair", fair);
        var r2 = await One("llm_judge", """{ "model": "fair" }""", """{ "question": "=\"q\"", "answer_a": "=\"x\"", "answer_b": "=\"y\"" }""", services);
        Assert.That(r2["score_a"], Is.EqualTo(1.0));
        Assert.That(r2["winner"], Is.EqualTo("a"));
    }
}
