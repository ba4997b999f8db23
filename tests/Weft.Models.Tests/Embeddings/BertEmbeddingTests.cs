using Weft.Models.Embeddings;
using Weft.Models.Llama;

namespace Weft.Models.Tests.Embeddings;

/// <summary>The BERT encoder on the engine's graph against an independent double-precision forward pass.</summary>
public class BertEmbeddingTests
{
    private const double Tol = 1e-4;
    private static readonly string[] Texts =
    [
        "Retrieval augmented generation finds relevant passages first.",
        "hello world",
        "The quick brown fox jumps over the lazy dog, twice!",
    ];

    private string _dir = "";
    private SyntheticBert _bert = null!;

    [OneTimeSetUp]
    public void OneTimeSetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "weft-bert-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        _bert = new SyntheticBert();
    }

    [OneTimeTearDown]
    public void OneTimeTearDown()
    {
        if (_dir.Length > 0 && Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private string ModelFile(int? pooling, string? skip = null)
    {
        string path = Path.Combine(_dir, $"bert-{pooling?.ToString() ?? "none"}-{skip ?? "full"}.gguf");
        if (!File.Exists(path))
        {
            _bert.Write(path, pooling, skip);
        }
        return path;
    }

    private static EmbeddingModel Load(string path, PoolingType? pooling = null) =>
        EmbeddingModel.Load(path, new EmbeddingOptions { Backend = BackendChoice.Cpu, Threads = 2, Pooling = pooling });

    private static void AssertClose(float[] actual, double[] expected, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        double maxErr = actual.Select((a, i) => Math.Abs(a - expected[i])).Max();
        TestContext.Out.WriteLine($"{what}: max |Δ| = {maxErr:E3}");
        Assert.That(maxErr, Is.LessThan(Tol), $"{what}: max |Δ| = {maxErr:E3}");
    }

    [TestCase(1, TestName = "Mean pooling matches the step-by-step reference")]
    [TestCase(2, TestName = "CLS pooling matches the step-by-step reference")]
    [TestCase(3, TestName = "Last-token pooling matches the step-by-step reference")]
    public void MatchesReference(int pooling)
    {
        using EmbeddingModel m = Load(ModelFile(pooling));
        Assert.That(m.Pooling, Is.EqualTo((PoolingType)pooling), "pooling comes from bert.pooling_type");
        Assert.That(m.Dimension, Is.EqualTo(SyntheticBert.E));
        foreach (string text in Texts)
        {
            int[] ids = m.Tokenize(text);
            Assert.That(ids[0], Is.EqualTo(m.Tokenizer.BosId), "[CLS] first");
            float[] v = m.Embed(text);
            AssertClose(v, _bert.Embedding(ids, pooling), $"'{text}' ({ids.Length} tokens)");
            Assert.That(Math.Sqrt(v.Sum(z => (double)z * z)), Is.EqualTo(1.0).Within(1e-5), "unit length");
        }
    }

    [Test]
    public void F16MatricesMatchReference()
    {
        var bert = new SyntheticBert(seed: 99, f16: true);
        string path = Path.Combine(_dir, "bert-f16.gguf");
        bert.Write(path, pooling: 1);
        using EmbeddingModel m = Load(path);
        foreach (string text in Texts)
        {
            int[] ids = m.Tokenize(text);
            double[] expected = bert.Embedding(ids, 1);
            float[] v = m.Embed(text);
            // F16 weights take the activations to F16 in the dot products (as ggml does), so the bound is looser.
            double maxErr = v.Select((a, i) => Math.Abs(a - expected[i])).Max();
            TestContext.Out.WriteLine($"f16 '{text}': max |Δ| = {maxErr:E3}");
            Assert.That(maxErr, Is.LessThan(1e-3), text);
        }
    }

    [Test]
    public void HiddenStatesMatchReference()
    {
        using EmbeddingModel m = Load(ModelFile(1));
        int[] ids = m.Tokenize(Texts[2]);
        float[] h = m.HiddenStates(ids);
        double[][] r = _bert.Hidden(ids);
        AssertClose(h, r.SelectMany(x => x).ToArray(), "token states");
    }

    [Test]
    public void MeanAndClsDiffer_AndOptionOverridesFile()
    {
        string path = ModelFile(null);
        using EmbeddingModel mean = Load(path);
        using EmbeddingModel cls = Load(path, PoolingType.Cls);
        Assert.That(mean.Pooling, Is.EqualTo(PoolingType.Mean), "no pooling key: mean");
        Assert.That(cls.Pooling, Is.EqualTo(PoolingType.Cls));
        Assert.That(mean.Name, Is.Not.EqualTo(cls.Name), "the name tells poolings apart");
        float[] a = mean.Embed(Texts[0]), b = cls.Embed(Texts[0]);
        int[] ids = mean.Tokenize(Texts[0]);
        AssertClose(a, _bert.Embedding(ids, 1), "mean");
        AssertClose(b, _bert.Embedding(ids, 2), "cls");
        Assert.That(a.Select((z, i) => Math.Abs(z - b[i])).Max(), Is.GreaterThan(1e-2), "mean and CLS pooling give different vectors");
    }

    [Test]
    public void BatchEqualsSingle()
    {
        using EmbeddingModel m = Load(ModelFile(1));
        float[][] batch = m.EmbedBatch(Texts);
        Assert.That(batch, Has.Length.EqualTo(Texts.Length));
        for (int i = 0; i < Texts.Length; i++)
        {
            Assert.That(batch[i], Is.EqualTo(m.Embed(Texts[i])), $"text {i}");
        }
    }

    [Test]
    public void MissingTensorIsNamed()
    {
        string path = ModelFile(1, skip: "blk.1.ffn_down.bias");
        var e = Assert.Throws<ModelFormatException>(() => Load(path).Dispose())!;
        Assert.That(e.Message, Does.StartWith(path).And.Contain("blk.1.ffn_down.bias").And.Contain("missing"));
    }

    [TestCase("t5", "architecture 't5' is not a supported embedding model")]
    [TestCase(null, "general.architecture is missing")]
    public void WrongArchitectureIsRefused(string? arch, string message)
    {
        string path = Path.Combine(_dir, $"arch-{arch ?? "none"}.gguf");
        var w = new Weft.Core.Gguf.GgufWriter();
        if (arch is not null)
        {
            w.Set("general.architecture", Weft.Core.Gguf.GgufValue.Of(arch));
        }
        w.Write(path);
        var e = Assert.Throws<ModelFormatException>(() => EmbeddingModel.Load(path).Dispose())!;
        Assert.That(e.Message, Does.StartWith(path).And.Contain(message));
    }

    [Test]
    public void MissingFileIsNamed()
    {
        string path = Path.Combine(_dir, "nope.gguf");
        var e = Assert.Throws<FileNotFoundException>(() => EmbeddingModel.Load(path).Dispose())!;
        Assert.That(e.Message, Does.Contain(path));
    }

    [Test]
    public void TooLongTextIsRefusedOrTruncated()
    {
        string path = ModelFile(2);
        string longText = string.Join(' ', Enumerable.Repeat("retrieval", SyntheticBert.Ctx + 5));
        using (EmbeddingModel m = Load(path))
        {
            var e = Assert.Throws<ArgumentException>(() => m.Embed(longText))!;
            Assert.That(e.Message, Does.Contain(SyntheticBert.Ctx.ToString()));
            Assert.Throws<ArgumentException>(() => m.EmbedTokens([m.VocabSize]));
            Assert.Throws<ArgumentException>(() => m.EmbedTokens([]));
        }
        using EmbeddingModel t = EmbeddingModel.Load(path, new EmbeddingOptions { Backend = BackendChoice.Cpu, Threads = 2, Truncate = true });
        int[] ids = t.Tokenize(longText);
        Assert.That(ids, Has.Length.EqualTo(SyntheticBert.Ctx));
        Assert.That(ids[^1], Is.EqualTo(t.Tokenizer.EosId), "[SEP] kept at the end");
        AssertClose(t.Embed(longText), _bert.Embedding(ids, 2), "truncated");
    }
}
