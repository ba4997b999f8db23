using Weft.Models.Llama;
using Weft.Tests;

namespace Weft.Models.Tests.Llama;

/// <summary>The decode profiler times real work: every op kind of the graph shows up, and bad arguments are refused.</summary>
public class DecodeProfilerTests
{
    [Test]
    public void ProfilesEveryOpKindOfTheGraph()
    {
        using LlamaModel model = LlamaModel.Load(TestAssets.Require("models/stories260K.gguf"));
        var p = new ContextParams { ContextSize = 16, Threads = 1, Backend = BackendChoice.Cpu };
        DecodeProfile r = DecodeProfiler.Run(model, p, [1, 403, 407, 261]);
        Assert.That(r.Tokens, Is.EqualTo(4));
        LlamaGraph.Batch b;
        using (LlamaContext ctx = model.CreateContext(p))
        {
            b = LlamaGraph.Build(model.HParams, model.Weights, ctx.Cache, 1, allLogits: false);
        }
        Assert.That(r.NodesPerToken, Is.EqualTo(b.Graph.Nodes.Count));
        Assert.That(r.ComputeMs, Is.GreaterThan(0));
        Assert.That(r.PerOpMs.Keys, Does.Contain("MatMul(f32)").And.Contain("FlashAttn").And.Contain("RmsNorm"));
        Assert.That(r.PerOpMs.Count, Is.EqualTo(b.Graph.Nodes.Select(n => n.Op).Distinct().Count()));
        Assert.That(r.PerOpMs.Values, Is.All.GreaterThanOrEqualTo(0));
    }

    [Test]
    public void RefusesTokensOutsideTheVocabularyOrContext()
    {
        using LlamaModel model = LlamaModel.Load(TestAssets.Require("models/stories260K.gguf"));
        var p = new ContextParams { ContextSize = 2, Threads = 1, Backend = BackendChoice.Cpu };
        Assert.That(() => DecodeProfiler.Run(model, p, [1, 2, 3]), Throws.ArgumentException.With.Message.Contains("1..2"));
        Assert.That(() => DecodeProfiler.Run(model, p, [512]), Throws.ArgumentException.With.Message.Contains("512"));
        Assert.That(() => DecodeProfiler.Run(model, p, []), Throws.ArgumentException);
    }
}
