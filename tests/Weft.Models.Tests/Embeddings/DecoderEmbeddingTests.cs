using System.Runtime.InteropServices;
using Weft.Core;
using Weft.Core.Gguf;
using Weft.Models.Embeddings;
using Weft.Models.Llama;
using Weft.Tests;

namespace Weft.Models.Tests.Embeddings;

/// <summary>
/// A Llama decoder (stories260K) as an embedder: its pooled states must be the final-norm hidden states whose product
/// with <c>output.weight</c> gives the logits that <see cref="LlamaContext.DecodeAll"/> computes.
/// </summary>
public class DecoderEmbeddingTests
{
    private const string Text = "Once upon a time there was a little cat";

    private static EmbeddingModel Load(PoolingType? pooling = null, bool normalize = true) =>
        EmbeddingModel.Load(TestAssets.Require("models/stories260K.gguf"),
            new EmbeddingOptions { Backend = BackendChoice.Cpu, Threads = 2, Pooling = pooling, Normalize = normalize });

    [Test]
    public void HiddenStatesReproduceTheLogits()
    {
        string path = TestAssets.Require("models/stories260K.gguf");
        using EmbeddingModel m = Load();
        Assert.That(m.Architecture, Is.EqualTo("llama"));
        Assert.That(m.Pooling, Is.EqualTo(PoolingType.Last), "decoders default to last-token pooling");
        int[] ids = m.Tokenize(Text);
        float[] hidden = m.HiddenStates(ids);

        using LlamaModel lm = LlamaModel.Load(path);
        using LlamaContext ctx = lm.CreateContext(new ContextParams { Backend = BackendChoice.Cpu, Threads = 2, ContextSize = 64 });
        float[] logits = ctx.DecodeAll(ids);

        using GgufFile gguf = GgufFile.Open(path);
        GgufTensorInfo outInfo = gguf.GetTensorInfo("output.weight");
        Assume.That(outInfo.Type, Is.EqualTo(DType.F32), "stories260K is all f32");
        ReadOnlySpan<float> w = MemoryMarshal.Cast<byte, float>(gguf.TensorBytes(outInfo));
        int e = m.Dimension, v = m.VocabSize;
        double maxErr = 0;
        for (int t = 0; t < ids.Length; t++)
        {
            for (int j = 0; j < v; j++)
            {
                double s = 0;
                for (int i = 0; i < e; i++) s += (double)w[j * e + i] * hidden[t * e + i];
                maxErr = Math.Max(maxErr, Math.Abs(s - logits[t * v + j]));
            }
        }
        TestContext.Out.WriteLine($"{ids.Length} tokens: max |W_out·h - logits| = {maxErr:E3}");
        Assert.That(maxErr, Is.LessThan(1e-3));
    }

    [TestCase(PoolingType.Last)]
    [TestCase(PoolingType.Mean)]
    public void PoolingOfHiddenStates(PoolingType pooling)
    {
        using EmbeddingModel m = Load(pooling);
        int[] ids = m.Tokenize(Text);
        float[] h = m.HiddenStates(ids);
        int e = m.Dimension, n = ids.Length;
        double[] expect = Enumerable.Range(0, e)
            .Select(i => pooling == PoolingType.Last ? h[(n - 1) * e + i] : Enumerable.Range(0, n).Average(t => (double)h[t * e + i])).ToArray();
        double norm = Math.Sqrt(expect.Sum(z => z * z));
        float[] got = m.Embed(Text);
        Assert.That(got.Select((z, i) => Math.Abs(z - expect[i] / norm)).Max(), Is.LessThan(1e-5));
        float[][] batch = m.EmbedBatch([Text, "a dog"]);
        Assert.That(batch[0], Is.EqualTo(got), "batch row equals the single embedding");
        Assert.That(batch[1], Is.EqualTo(m.Embed("a dog")));
    }
}
