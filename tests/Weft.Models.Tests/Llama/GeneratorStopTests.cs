using Weft.Models.Llama;
using Weft.Models.Sampling;
using Weft.Tests;

namespace Weft.Models.Tests.Llama;

/// <summary>Stop strings end generation before them, also when they span tokens; the text before is returned whole.</summary>
public class GeneratorStopTests
{
    // stories260K's greedy continuation of "Once upon a time" (reference file): ", there was a little girl named Lily. She loved ..."
    [TestCase("Lily", ", there was a little girl named ")]
    [TestCase("le gi", ", there was a litt")]
    [TestCase("She loved", ", there was a little girl named Lily. ")]
    public void StopsBeforeTheStopString(string stop, string expected)
    {
        using LlamaModel model = LlamaModel.Load(TestAssets.Require("models/stories260K.gguf"));
        using LlamaContext ctx = model.CreateContext(new ContextParams { ContextSize = 128, Backend = BackendChoice.Cpu });
        var gen = new Generator(ctx);
        var p = new GenerationParams { MaxTokens = 60, Sampling = SamplingParams.Greedy, Stop = ["never appears", stop] };
        string text = string.Concat(gen.GenerateAsync("Once upon a time", p).ToBlockingEnumerable().Select(t => t.Text));
        Assert.That(text, Is.EqualTo(expected));
        Assert.That(gen.LastStats.StopReason, Is.EqualTo("stop"));
    }

    [Test]
    public void WithoutAMatchTheWholeTextIsReturned()
    {
        using LlamaModel model = LlamaModel.Load(TestAssets.Require("models/stories260K.gguf"));
        using LlamaContext ctx = model.CreateContext(new ContextParams { ContextSize = 128, Backend = BackendChoice.Cpu });
        var gen = new Generator(ctx);
        var p = new GenerationParams { MaxTokens = 10, Sampling = SamplingParams.Greedy, Stop = ["zzzz"] };
        string text = string.Concat(gen.GenerateAsync("Once upon a time", p).ToBlockingEnumerable().Select(t => t.Text));
        Assert.That(text, Is.EqualTo(", there was a little girl named Lily"));
        Assert.That(gen.LastStats.StopReason, Is.EqualTo("length"));
    }
}
