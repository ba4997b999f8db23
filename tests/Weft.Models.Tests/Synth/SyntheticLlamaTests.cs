using System.Runtime.InteropServices;
using Weft.Core;
using Weft.Core.Gguf;
using Weft.Models.Synth;
using Weft.Tests;

namespace Weft.Models.Tests.Synth;

public class SyntheticLlamaTests
{
    private string _dir = "";
    private GgufFile _vocab = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), $"weft-synth-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_dir);
        _vocab = GgufFile.Open(TestAssets.Require("tokenizers/llamacpp/ggml-vocab-llama-spm.gguf"));
    }

    [TearDown]
    public void TearDown()
    {
        _vocab?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string Make(SynthOptions o, string name)
    {
        string path = Path.Combine(_dir, name);
        SyntheticLlama.Write(o, _vocab, path);
        return path;
    }

    private static float[] Floats(GgufFile f, string tensor) =>
        MemoryMarshal.Cast<byte, float>(f.TensorBytes(f.GetTensorInfo(tensor))).ToArray();

    [Test]
    public void TinyModelHasLlamaCppTensorsMetadataAndVocab()
    {
        string path = Make(new SynthOptions { Preset = SynthPreset.Tiny, Seed = 7 }, "tiny.gguf");
        using GgufFile f = GgufFile.Open(path);
        ModelInfo m = ModelInfo.FromGguf(f);
        Assert.Multiple(() =>
        {
            Assert.That(m.Architecture, Is.EqualTo("llama"));
            Assert.That(m.EmbeddingLength, Is.EqualTo(64));
            Assert.That(m.BlockCount, Is.EqualTo(2));
            Assert.That(m.HeadCount, Is.EqualTo(4));
            Assert.That(m.HeadCountKv, Is.EqualTo(2));
            Assert.That(m.FeedForwardLength, Is.EqualTo(128));
            Assert.That(m.ContextLength, Is.EqualTo(2048));
            Assert.That(m.RopeFreqBase, Is.EqualTo(10000f));
            Assert.That(m.RopeDimensionCount, Is.EqualTo(16));
            Assert.That(m.RmsNormEpsilon, Is.EqualTo(1e-5f));
            Assert.That(m.VocabSize, Is.EqualTo(32000));
            Assert.That(m.FileTypeName, Is.EqualTo("ALL_F32"));
        });

        // Every tokenizer key is copied unchanged, in order.
        string[] vocabKeys = _vocab.MetadataKeys.Where(k => k.StartsWith("tokenizer.ggml.", StringComparison.Ordinal)).ToArray();
        Assert.That(f.MetadataKeys.Where(k => k.StartsWith("tokenizer.ggml.", StringComparison.Ordinal)), Is.EqualTo(vocabKeys));
        foreach (string k in vocabKeys)
        {
            Assert.That(f.Metadata[k], Is.EqualTo(_vocab.Metadata[k]), k);
        }

        // llama.cpp's names and ggml shapes (ne0 = input width): kv width = n_head_kv * head_dim = 2 * 16.
        var expected = new Dictionary<string, long[]>
        {
            ["token_embd.weight"] = [64, 32000], ["output_norm.weight"] = [64], ["output.weight"] = [64, 32000],
        };
        for (int i = 0; i < 2; i++)
        {
            expected[$"blk.{i}.attn_norm.weight"] = [64];
            expected[$"blk.{i}.attn_q.weight"] = [64, 64];
            expected[$"blk.{i}.attn_k.weight"] = [64, 32];
            expected[$"blk.{i}.attn_v.weight"] = [64, 32];
            expected[$"blk.{i}.attn_output.weight"] = [64, 64];
            expected[$"blk.{i}.ffn_norm.weight"] = [64];
            expected[$"blk.{i}.ffn_gate.weight"] = [64, 128];
            expected[$"blk.{i}.ffn_up.weight"] = [64, 128];
            expected[$"blk.{i}.ffn_down.weight"] = [128, 64];
        }
        Assert.That(f.Tensors.Select(t => t.Name), Is.EquivalentTo(expected.Keys));
        foreach (GgufTensorInfo t in f.Tensors)
        {
            Assert.That(t.Shape, Is.EqualTo(expected[t.Name]), t.Name);
            Assert.That(t.Type, Is.EqualTo(DType.F32), t.Name);
        }

        Assert.That(Floats(f, "blk.1.ffn_norm.weight"), Is.All.EqualTo(1f));
        Assert.That(Floats(f, "output_norm.weight"), Is.All.EqualTo(1f));
        float[] emb = Floats(f, "token_embd.weight");
        double mean = emb.Average(x => (double)x);
        double std = Math.Sqrt(emb.Average(x => ((double)x - mean) * ((double)x - mean)));
        Assert.That(mean, Is.EqualTo(0).Within(0.02 * 5 / Math.Sqrt(emb.Length)));
        Assert.That(std, Is.EqualTo(0.02).Within(0.0002));
        Assert.That(Floats(f, "output.weight"), Is.Not.EqualTo(emb), "each tensor has its own random stream");
    }

    [Test]
    public void SameSeedGivesAByteIdenticalFileAndAnotherSeedDoesNot()
    {
        byte[] a = File.ReadAllBytes(Make(new SynthOptions { Preset = SynthPreset.Tiny, Seed = 11 }, "a.gguf"));
        byte[] b = File.ReadAllBytes(Make(new SynthOptions { Preset = SynthPreset.Tiny, Seed = 11 }, "b.gguf"));
        byte[] c = File.ReadAllBytes(Make(new SynthOptions { Preset = SynthPreset.Tiny, Seed = 12 }, "c.gguf"));
        Assert.That(a.AsSpan().SequenceEqual(b), Is.True);
        Assert.That(c.Length, Is.EqualTo(a.Length));
        Assert.That(a.AsSpan().SequenceEqual(c), Is.False);
    }

    [Test]
    public void ScaleMultipliesTheWeights()
    {
        using GgufFile a = GgufFile.Open(Make(new SynthOptions { Preset = SynthPreset.Tiny, Seed = 3 }, "a.gguf"));
        using GgufFile b = GgufFile.Open(Make(new SynthOptions { Preset = SynthPreset.Tiny, Seed = 3, Scale = 0.5f }, "b.gguf"));
        float[] x = Floats(a, "blk.0.attn_q.weight"), y = Floats(b, "blk.0.attn_q.weight");
        for (int i = 0; i < x.Length; i++)
        {
            // Both are float(normal) * scale from the same normal sample.
            Assert.That(y[i] / 0.5f, Is.EqualTo(x[i] / 0.02f).Within(1e-5).Percent, $"element {i}");
        }
    }

    [Test]
    public void F16WeightsAreTheRoundedF32Weights()
    {
        using GgufFile a = GgufFile.Open(Make(new SynthOptions { Preset = SynthPreset.Tiny, Seed = 5 }, "f32.gguf"));
        using GgufFile h = GgufFile.Open(Make(new SynthOptions { Preset = SynthPreset.Tiny, Seed = 5, WeightType = DType.F16 }, "f16.gguf"));
        Assert.That(ModelInfo.FromGguf(h).FileTypeName, Is.EqualTo("MOSTLY_F16"));
        foreach (GgufTensorInfo t in h.Tensors)
        {
            bool norm = t.Name.EndsWith("norm.weight", StringComparison.Ordinal);
            Assert.That(t.Type, Is.EqualTo(norm ? DType.F32 : DType.F16), t.Name);
        }
        float[] x = Floats(a, "blk.1.ffn_down.weight");
        ReadOnlySpan<Half> y = MemoryMarshal.Cast<byte, Half>(h.TensorBytes(h.GetTensorInfo("blk.1.ffn_down.weight")));
        Assert.That(y.Length, Is.EqualTo(x.Length));
        for (int i = 0; i < x.Length; i++)
        {
            Assert.That(y[i], Is.EqualTo((Half)x[i]), $"element {i}");
        }
    }

    [Test]
    public void EncoderDelegateWritesOtherTypesAndFallbackCoversPartialBlocks()
    {
        int calls = 0;
        // A plain Q8_0 encoder (scale = max|x| / 127 as f16, then rounded int8 values), written here for the test.
        void Q8(DType type, ReadOnlySpan<float> src, Span<byte> dst)
        {
            Assert.That(type, Is.EqualTo(DType.Q8_0));
            Assert.That(src.Length % 32, Is.Zero);
            Assert.That(dst.Length, Is.EqualTo(src.Length / 32 * 34));
            calls++;
            for (int b = 0; b < src.Length / 32; b++)
            {
                ReadOnlySpan<float> x = src.Slice(b * 32, 32);
                float amax = 0;
                foreach (float v in x)
                {
                    amax = Math.Max(amax, Math.Abs(v));
                }
                float d = amax / 127f;
                MemoryMarshal.Write(dst.Slice(b * 34), (Half)d);
                for (int i = 0; i < 32; i++)
                {
                    dst[b * 34 + 2 + i] = (byte)(sbyte)Math.Round(d == 0 ? 0 : x[i] / d);
                }
            }
        }
        var preset = new SynthPreset("odd", 96, 1, 4, 2, 80);
        var o = new SynthOptions { Preset = preset, Seed = 9, WeightType = DType.Q8_0, Encoder = Q8 };
        using GgufFile f = GgufFile.Open(Make(o, "q8.gguf"));
        Assert.That(calls, Is.GreaterThan(0));
        Assert.That(f.GetInt("general.file_type"), Is.EqualTo(7));
        Assert.That(f.GetTensorInfo("blk.0.attn_q.weight").Type, Is.EqualTo(DType.Q8_0));
        Assert.That(f.GetTensorInfo("blk.0.ffn_down.weight").Type, Is.EqualTo(DType.F16), "ne0 = 80 is not a multiple of 32: fallback");
        Assert.That(f.GetTensorInfo("blk.0.ffn_norm.weight").Type, Is.EqualTo(DType.F32));

        var noEncoder = new SynthOptions { Preset = SynthPreset.Tiny, WeightType = DType.Q8_0 };
        var ex = Assert.Throws<ArgumentException>(() => SyntheticLlama.Create(noEncoder, _vocab))!;
        Assert.That(ex.Message, Does.Contain("q8_0").And.Contain("encoder"));

        // Rows of 64 are not whole Q4_K blocks (256): every matrix falls back to F16, so no encoder is needed.
        using GgufFile k = GgufFile.Open(Make(new SynthOptions { Preset = SynthPreset.Tiny, WeightType = DType.Q4_K }, "q4k.gguf"));
        Assert.That(k.Tensors.Where(t => t.NDims == 2).Select(t => t.Type), Is.All.EqualTo(DType.F16));
    }

    [Test]
    public void BadOptionsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => SyntheticLlama.Create(new SynthOptions { Preset = new SynthPreset("x", 64, 1, 5, 5, 8) }, _vocab));
        Assert.Throws<ArgumentException>(() => SyntheticLlama.Create(new SynthOptions { Preset = new SynthPreset("x", 64, 1, 4, 3, 8) }, _vocab));
        Assert.Throws<ArgumentException>(() => SyntheticLlama.Create(new SynthOptions { Preset = SynthPreset.Tiny, Scale = 0 }, _vocab));
        Assert.Throws<ArgumentException>(() => SyntheticLlama.Create(new SynthOptions { Preset = SynthPreset.Tiny, Scale = float.NaN }, _vocab));
        Assert.Throws<ArgumentException>(() => SynthPreset.Get("7b"));
    }

    [TestCase("135m", 576, 30, 9, 3, 1536)]
    [TestCase("1b", 2048, 16, 32, 8, 8192)]
    public void PresetShapesAndParameterCounts(string name, int e, int layers, int heads, int kvHeads, int ff)
    {
        SynthPreset p = SynthPreset.Get(name);
        Assert.That((p.EmbeddingLength, p.BlockCount, p.HeadCount, p.HeadCountKv, p.FeedForwardLength), Is.EqualTo((e, layers, heads, kvHeads, ff)));
        IReadOnlyList<SyntheticLlama.TensorSpec> specs = SyntheticLlama.Tensors(new SynthOptions { Preset = p }, 32000);
        long kv = (long)kvHeads * (e / heads);
        // Per layer: two norms, q and o (e*e), k and v (e*kv), gate/up/down (e*ff); plus two vocab matrices and a norm.
        long expected = layers * (2L * e + 2L * e * e + 2L * e * kv + 3L * e * ff) + 2L * e * 32000 + e;
        Assert.That(specs.Sum(s => s.Shape.Aggregate(1L, (a, b) => a * b)), Is.EqualTo(expected));
        Assert.That(specs, Has.Count.EqualTo(9 * layers + 3));
    }

    [Test]
    public void RandomStreamMatchesAnIndependentPythonImplementation()
    {
        // Bits of the first six floats, from a separate Python implementation of the documented algorithm
        // (FNV-1a name hash, SplitMix64, polar method, series logarithm): pins the stream so files stay byte-identical.
        static uint[] First6(ulong seed, string name)
        {
            var r = new SynthRandom(seed, name);
            return Enumerable.Range(0, 6).Select(_ => BitConverter.SingleToUInt32Bits(r.NextNormal())).ToArray();
        }
        Assert.That(First6(1, "a"), Is.EqualTo(new uint[] { 1054649082, 3213052358, 3200342543, 3215734588, 3215576234, 1050691560 }));
        Assert.That(First6(42, "token_embd.weight"), Is.EqualTo(new uint[] { 3213383482, 3212134290, 1064850251, 1061268114, 3203364263, 3216522794 }));
    }

    [TestCase(0.5)]
    [TestCase(0.1)]
    [TestCase(1e-10)]
    [TestCase(0.999999)]
    [TestCase(0.7071067811865476)]
    [TestCase(1.0)]
    public void SeriesLogarithmMatchesMathLog(double x) =>
        Assert.That(SynthRandom.Log(x), Is.EqualTo(Math.Log(x)).Within(Math.Abs(Math.Log(x)) * 1e-15 + 1e-300));

    [Test]
    public void RandomStreamsAreStandardNormalAndIndependentPerName()
    {
        var r = new SynthRandom(1, "a");
        var v = new float[200_000];
        r.FillNormal(v, 1f);
        double mean = v.Average(x => (double)x);
        double var = v.Average(x => ((double)x - mean) * ((double)x - mean));
        double kurt = v.Average(x => Math.Pow((double)x - mean, 4)) / (var * var);
        Assert.That(mean, Is.EqualTo(0).Within(0.01));
        Assert.That(var, Is.EqualTo(1).Within(0.01));
        Assert.That(kurt, Is.EqualTo(3).Within(0.05));
        Assert.That(new SynthRandom(1, "a").NextUInt64(), Is.EqualTo(new SynthRandom(1, "a").NextUInt64()));
        Assert.That(new SynthRandom(1, "a").NextUInt64(), Is.Not.EqualTo(new SynthRandom(1, "b").NextUInt64()));
        Assert.That(new SynthRandom(1, "a").NextUInt64(), Is.Not.EqualTo(new SynthRandom(2, "a").NextUInt64()));
    }
}
