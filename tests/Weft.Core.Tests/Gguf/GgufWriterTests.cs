using Weft.Core.Gguf;
using Weft.Tests;

namespace Weft.Core.Tests.Gguf;

public class GgufWriterTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), $"weft-gguf-writer-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static GgufValue[] EveryType() =>
    [
        GgufValue.Of((byte)200), GgufValue.Of((sbyte)-100), GgufValue.Of((ushort)60000), GgufValue.Of((short)-30000),
        GgufValue.Of(4_000_000_000u), GgufValue.Of(-2_000_000_000), GgufValue.Of(1.5f), GgufValue.Of(true),
        GgufValue.Of("héllo ✓"), GgufValue.Of(ulong.MaxValue), GgufValue.Of(long.MinValue), GgufValue.Of(Math.PI),
        GgufValue.Of(new byte[] { 1, 2, 255 }), GgufValue.Of(new sbyte[] { -1, 2 }), GgufValue.Of(new ushort[] { 7 }),
        GgufValue.Of(new short[] { -7, 7 }), GgufValue.Of(new uint[] { 1, uint.MaxValue }), GgufValue.Of(new[] { -5, 5 }),
        GgufValue.Of(new[] { 0.25f, float.NaN, -0f }), GgufValue.Of(new[] { true, false }), GgufValue.Of(new[] { "a", "", "ü" }),
        GgufValue.Of(new ulong[] { ulong.MaxValue }), GgufValue.Of(new long[] { -1, long.MaxValue }), GgufValue.Of(new[] { 1e300, -0.0 }),
        GgufValue.Of(Array.Empty<float>()),
        GgufValue.OfArrays([GgufValue.Of(new[] { 1, 2 }), GgufValue.Of(new[] { "x" }), GgufValue.OfArrays([GgufValue.Of(new[] { 3.0 })])]),
    ];

    [TestCase(32u)]
    [TestCase(64u)]
    public void RoundTripsEveryValueTypeAndTensorBytes(uint alignment)
    {
        var rng = new Random(1234);
        var w = new GgufWriter();
        if (alignment != 32)
        {
            w.Set(GgufFile.AlignmentKey, GgufValue.Of(alignment));
        }
        GgufValue[] values = EveryType();
        for (int i = 0; i < values.Length; i++)
        {
            w.Set($"test.v{i}", values[i]);
        }
        var tensors = new (string Name, DType Type, long[] Shape)[]
        {
            ("a.f32", DType.F32, [3, 5]), ("b.f16", DType.F16, [7]), ("c.q4_0", DType.Q4_0, [64, 3]),
            ("d.q8_0", DType.Q8_0, [32, 2, 2]), ("e.q4_k", DType.Q4_K, [256, 1, 1, 2]), ("f.empty", DType.F32, [0, 4]),
        };
        var data = new Dictionary<string, byte[]>();
        foreach (var (name, type, shape) in tensors)
        {
            Long4 ne = Long4.Of(1);
            for (int d = 0; d < shape.Length; d++)
            {
                ne[d] = shape[d];
            }
            var bytes = new byte[GgufTensorInfo.ComputeByteSize(type, ne)];
            rng.NextBytes(bytes);
            data[name] = bytes;
            w.AddTensor(name, type, shape, bytes);
        }
        string path = Path.Combine(_dir, "all.gguf");
        w.Write(path);

        using GgufFile f = GgufFile.Open(path);
        Assert.That(f.Alignment, Is.EqualTo((int)alignment));
        Assert.That(f.MetadataKeys, Is.EqualTo(w.Keys));
        for (int i = 0; i < values.Length; i++)
        {
            Assert.That(f.Metadata[$"test.v{i}"], Is.EqualTo(values[i]), $"test.v{i} ({values[i]})");
        }
        Assert.That(f.Tensors.Select(t => t.Name), Is.EqualTo(tensors.Select(t => t.Name)));
        foreach (var (name, type, shape) in tensors)
        {
            GgufTensorInfo info = f.GetTensorInfo(name);
            Assert.That(info.Type, Is.EqualTo(type));
            Assert.That(info.Shape, Is.EqualTo(shape));
            Assert.That(info.Offset % alignment, Is.Zero);
            Assert.That(f.TensorBytes(info).ToArray(), Is.EqualTo(data[name]), name);
        }
    }

    [Test]
    public void RewritingStories260KIsByteIdentical()
    {
        string src = TestAssets.Require("models/stories260K.gguf");
        string dst = Path.Combine(_dir, "copy.gguf");
        using (GgufFile f = GgufFile.Open(src))
        {
            GgufWriter.From(f).Write(dst);
        }
        using (GgufFile a = GgufFile.Open(src))
        using (GgufFile b = GgufFile.Open(dst))
        {
            Assert.That(b.MetadataKeys, Is.EqualTo(a.MetadataKeys));
            foreach (string k in a.MetadataKeys)
            {
                Assert.That(b.Metadata[k], Is.EqualTo(a.Metadata[k]), k);
            }
            Assert.That(b.Tensors, Is.EqualTo(a.Tensors));
            foreach (GgufTensorInfo t in a.Tensors)
            {
                Assert.That(b.TensorBytes(b.GetTensorInfo(t.Name)).SequenceEqual(a.TensorBytes(t)), Is.True, t.Name);
            }
        }
        Assert.That(File.ReadAllBytes(dst), Is.EqualTo(File.ReadAllBytes(src)));
    }

    [TestCaseSource(typeof(GgufReaderTests), nameof(GgufReaderTests.LlamaCppVocabs))]
    public void RewritingLlamaCppVocabsReadsBackIdentical(string name)
    {
        string src = TestAssets.Require("tokenizers/llamacpp/" + name);
        string dst = Path.Combine(_dir, name);
        using GgufFile a = GgufFile.Open(src);
        GgufWriter.From(a).Write(dst);
        using GgufFile b = GgufFile.Open(dst);
        Assert.That(b.MetadataKeys, Is.EqualTo(a.MetadataKeys));
        foreach (string k in a.MetadataKeys)
        {
            Assert.That(b.Metadata[k], Is.EqualTo(a.Metadata[k]), k);
        }
    }

    [Test]
    public void FailedWriteLeavesTheTargetUntouchedAndNoTempFile()
    {
        string path = Path.Combine(_dir, "keep.gguf");
        File.WriteAllText(path, "previous");
        var w = new GgufWriter();
        w.AddTensor("short", DType.F32, [4], s => s.Write(new byte[8]));
        var ex = Assert.Throws<InvalidOperationException>(() => w.Write(path))!;
        Assert.That(ex.Message, Does.Contain("short").And.Contain("16"));
        var w2 = new GgufWriter();
        w2.AddTensor("long", DType.F32, [1], s => s.Write(new byte[8]));
        Assert.Throws<InvalidOperationException>(() => w2.Write(path));
        Assert.That(File.ReadAllText(path), Is.EqualTo("previous"));
        Assert.That(Directory.GetFiles(_dir), Has.Length.EqualTo(1));
    }

    [Test]
    public void ArgumentErrors()
    {
        var w = new GgufWriter();
        w.AddTensor("t", DType.F32, [2], new byte[8]);
        Assert.Throws<ArgumentException>(() => w.AddTensor("t", DType.F32, [2], new byte[8]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("u", DType.F32, [2], new byte[7]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("u", DType.Q4_0, [31], new byte[18]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("u", DType.F32, [1, 1, 1, 1, 1], new byte[4]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("u", DType.F32, [-1], new byte[0]));
        Assert.Throws<ArgumentException>(() => w.AddTensor("u", (DType)4, [1], new byte[0]));
        Assert.Throws<ArgumentException>(() => new GgufWriter().Set(GgufFile.AlignmentKey, GgufValue.Of(48u)));
        Assert.Throws<InvalidOperationException>(() => w.Set(GgufFile.AlignmentKey, GgufValue.Of(64u)));
        Assert.Throws<ArgumentException>(() => GgufValue.OfArrays([GgufValue.Of(1)]));
    }

    [Test]
    public void SetReplacesInPlaceAndRemoveDeletes()
    {
        var w = new GgufWriter().Set("a", GgufValue.Of(1)).Set("b", GgufValue.Of(2)).Set("a", GgufValue.Of("x"));
        Assert.That(w.Keys, Is.EqualTo(new[] { "a", "b" }));
        Assert.That(w.Remove("a"), Is.True);
        Assert.That(w.Remove("a"), Is.False);
        Assert.That(w.Keys, Is.EqualTo(new[] { "b" }));
    }
}
