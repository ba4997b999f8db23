using System.Runtime.InteropServices;
using Weft.Core;
using Weft.Core.Gguf;
using Weft.Core.Quants;
using Weft.Models.Quantization;
using Weft.Tests;

namespace Weft.Models.Tests.Quantization;

public class ModelQuantizerTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "weft-quant-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void TearDown()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // A mapped file may still be closing on some platforms; the temp folder is cleaned later.
        }
    }

    private static float[] ReadF32(GgufFile f, GgufTensorInfo t) => MemoryMarshal.Cast<byte, float>(f.TensorBytes(t)).ToArray();

    // Expected types for stories260K (n_embd 64, n_ff 172, 5 layers, untied output), worked out by hand from
    // llama.cpp's rules: see TensorTypePlanner's remarks. use_more_bits(i, 5) holds for layers 2 and 4.
    private static DType ExpectedQ4_K_M(string name) => name switch
    {
        _ when name.EndsWith("norm.weight", StringComparison.Ordinal) => DType.F32,
        "output.weight" => DType.Q8_0,                                  // 64 % 256 != 0 -> q8_0
        _ when name.Contains("ffn_down") => DType.F16,                 // 172: q4_k/q6_k -> q5_0/q8_0 -> not % 32 -> f16
        "blk.2.attn_v.weight" or "blk.4.attn_v.weight" => DType.Q8_0,  // q6_k -> q8_0
        _ => DType.Q5_0,                                                // q4_k -> q5_0
    };

    private static DType ExpectedQ8_0(string name) => name switch
    {
        _ when name.EndsWith("norm.weight", StringComparison.Ordinal) => DType.F32,
        _ when name.Contains("ffn_down") => DType.F16,                 // 172 % 32 != 0
        _ => DType.Q8_0,
    };

    // Per-element bound on |x - dequant(quant(x))| within one 32-value block whose largest magnitude is amax.
    private static float ElementBound(DType type, float amax, float x) => type switch
    {
        DType.F32 => 0f,
        DType.F16 => Math.Abs(x) * (1f / 2048f) + 6e-8f,
        // half a step plus the f16 rounding of d over up to 127 steps
        DType.Q8_0 => amax / 127f * (0.5f + 127f / 2048f) + 1e-9f,
        // one full step: the level opposite the largest magnitude is clamped at 15 of 0..31 -> up to d
        DType.Q5_0 => amax / 16f * (1f + 32f / 2048f) + 1e-9f,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    [TestCase("q8_0")]
    [TestCase("q4_k_m")]
    public void Stories260KQuantizesLikeLlamaCpp(string targetName)
    {
        string input = TestAssets.Require("models/stories260K.gguf");
        string output = Path.Combine(_dir, $"s-{targetName}.gguf");
        QuantizationTarget target = QuantizationTarget.Parse(targetName);
        QuantizeResult result = ModelQuantizer.Run(input, output, target, new QuantizeOptions { Threads = 2 });

        using GgufFile src = GgufFile.Open(input);
        using GgufFile dst = GgufFile.Open(output);
        Assert.That(dst.Tensors, Has.Count.EqualTo(src.Tensors.Count));
        Assert.That(dst.GetInt("general.file_type"), Is.EqualTo((long)target.FileType));
        Assert.That(dst.GetInt("general.quantization_version"), Is.EqualTo(2));
        foreach (string key in src.MetadataKeys.Where(k => k != "general.file_type"))
        {
            Assert.That(dst.Metadata[key], Is.EqualTo(src.Metadata[key]), key);
        }
        // llama.cpp's order: non-layer tensors by name, then layer by layer.
        Assert.That(dst.Tensors.Select(t => t.Name), Is.EqualTo(result.Plans.Select(p => p.Name)));
        Assert.That(dst.Tensors[0].Name, Is.EqualTo("output.weight"));

        Func<string, DType> expected = targetName == "q8_0" ? ExpectedQ8_0 : ExpectedQ4_K_M;
        foreach (GgufTensorInfo s in src.Tensors)
        {
            GgufTensorInfo d = dst.GetTensorInfo(s.Name);
            Assert.That(d.Type, Is.EqualTo(expected(s.Name)), s.Name);
            Assert.That(d.Shape, Is.EqualTo(s.Shape), s.Name);

            float[] x = ReadF32(src, s);
            // The stored bytes are exactly Quantize.Row of the original rows.
            var q = new byte[d.ByteSize];
            int ne0 = (int)s.Ne[0];
            int rowBytes = (int)TypeTraits.Of(d.Type).RowSize(ne0);
            for (int r = 0; r < x.Length / ne0; r++)
            {
                Quantize.Row(d.Type, x.AsSpan(r * ne0, ne0), q.AsSpan(r * rowBytes, rowBytes));
            }
            Assert.That(dst.TensorBytes(d).SequenceEqual(q), Is.True, $"{s.Name}: bytes differ from Quantize.Row");

            // Dequantized values are within the type's per-element bound of the original.
            var y = new float[x.Length];
            for (int r = 0; r < x.Length / ne0; r++)
            {
                Dequantize.Row(d.Type, q.AsSpan(r * rowBytes, rowBytes), y.AsSpan(r * ne0, ne0));
            }
            for (int i = 0; i < x.Length; i += 32)
            {
                int len = Math.Min(32, x.Length - i);
                float amax = 0;
                for (int j = 0; j < len; j++)
                {
                    amax = Math.Max(amax, Math.Abs(x[i + j]));
                }
                for (int j = 0; j < len; j++)
                {
                    float bound = ElementBound(d.Type, amax, x[i + j]);
                    if (Math.Abs(x[i + j] - y[i + j]) > bound)
                    {
                        Assert.Fail($"{s.Name}[{i + j}] ({TypeTraits.Of(d.Type).Name}): {x[i + j]} came back as {y[i + j]}, bound {bound}");
                    }
                }
            }
        }
        Assert.That(result.OutputBytes, Is.LessThan(result.InputBytes / 2));
    }

    [Test]
    public void ThreadCountDoesNotChangeTheBytes()
    {
        string input = TestAssets.Require("models/stories260K.gguf");
        string a = Path.Combine(_dir, "a.gguf"), b = Path.Combine(_dir, "b.gguf");
        ModelQuantizer.Run(input, a, QuantizationTarget.Parse("q5_1"), new QuantizeOptions { Threads = 1 });
        ModelQuantizer.Run(input, b, QuantizationTarget.Parse("q5_1"), new QuantizeOptions { Threads = 3 });
        Assert.That(File.ReadAllBytes(a), Is.EqualTo(File.ReadAllBytes(b)));
    }

    [Test]
    public void RequantizingIsRefusedUnlessAllowed()
    {
        string input = TestAssets.Require("models/stories260K.gguf");
        string q8 = Path.Combine(_dir, "q8.gguf"), q4 = Path.Combine(_dir, "q4.gguf");
        ModelQuantizer.Run(input, q8, QuantizationTarget.Parse("q8_0"));
        var ex = Assert.Throws<InvalidOperationException>(() => ModelQuantizer.Run(q8, q4, QuantizationTarget.Parse("q4_0")));
        Assert.That(ex!.Message, Does.Contain("already quantized").And.Contain("q8_0").And.Contain("--allow-requantize"));
        Assert.That(File.Exists(q4), Is.False);

        QuantizeResult r = ModelQuantizer.Run(q8, q4, QuantizationTarget.Parse("q4_0"), new QuantizeOptions { AllowRequantize = true });
        Assert.That(r.Warnings, Has.Some.Contains("requantizing q8_0 -> q4_0"));
        using GgufFile f = GgufFile.Open(q4);
        Assert.That(f.GetTensorInfo("blk.0.attn_q.weight").Type, Is.EqualTo(DType.Q4_0));
        // The f16 fallback tensors are converted up to... nothing: q4_0 rows of 172 fall back to f16 again, so they are copied.
        Assert.That(f.GetTensorInfo("blk.0.ffn_down.weight").Type, Is.EqualTo(DType.F16));
    }

    [Test]
    public void BadInputsGiveClearErrors()
    {
        string missing = Path.Combine(_dir, "missing.gguf");
        var nf = Assert.Throws<FileNotFoundException>(() => ModelQuantizer.Run(missing, Path.Combine(_dir, "o.gguf"), QuantizationTarget.Parse("q8_0")));
        Assert.That(nf!.Message, Does.Contain(missing));

        string junk = Path.Combine(_dir, "junk.gguf");
        File.WriteAllBytes(junk, new byte[100]);
        Assert.Throws<GgufFormatException>(() => ModelQuantizer.Run(junk, Path.Combine(_dir, "o.gguf"), QuantizationTarget.Parse("q8_0")));

        string input = TestAssets.Require("models/stories260K.gguf");
        Assert.Throws<ArgumentException>(() => ModelQuantizer.Run(input, input, QuantizationTarget.Parse("q8_0")));
    }

    [Test]
    public void F16AndBF16TargetsConvertOnlyTheMatrices()
    {
        string input = TestAssets.Require("models/stories260K.gguf");
        foreach (string name in new[] { "f16", "bf16" })
        {
            string output = Path.Combine(_dir, name + ".gguf");
            ModelQuantizer.Run(input, output, QuantizationTarget.Parse(name));
            using GgufFile src = GgufFile.Open(input);
            using GgufFile f = GgufFile.Open(output);
            DType t = name == "f16" ? DType.F16 : DType.BF16;
            foreach (GgufTensorInfo info in f.Tensors)
            {
                Assert.That(info.Type, Is.EqualTo(info.NDims == 1 ? DType.F32 : t), info.Name);
            }
            GgufTensorInfo q = f.GetTensorInfo("blk.1.attn_q.weight");
            float[] x = ReadF32(src, src.GetTensorInfo("blk.1.attn_q.weight"));
            ushort[] bits = MemoryMarshal.Cast<byte, ushort>(f.TensorBytes(q)).ToArray();
            for (int i = 0; i < x.Length; i++)
            {
                Assert.That(bits[i], Is.EqualTo(t == DType.F16 ? BitConverter.HalfToUInt16Bits((Half)x[i]) : Bf16.FromFloat(x[i])));
            }
            Assert.That(f.GetInt("general.file_type"), Is.EqualTo(name == "f16" ? 1 : 32));
        }
    }

    [Test]
    public void KQuantMixOnWholeSuperBlockRows()
    {
        // A two-layer model with rows of 256/512 so the K types are used as such (stories260K's rows are too short).
        var rng = new Random(42);
        float[] Rand(long n) => Enumerable.Range(0, (int)n).Select(_ => (float)(rng.NextDouble() - 0.5) * 0.1f).ToArray();
        var w = new GgufWriter();
        w.Set("general.architecture", GgufValue.Of("llama"));
        w.Set("llama.block_count", GgufValue.Of(2u));
        w.Set("general.file_type", GgufValue.Of(0u));
        var data = new Dictionary<string, float[]>();
        void Add(string name, params long[] shape)
        {
            float[] x = Rand(shape.Aggregate(1L, (a, b) => a * b));
            data[name] = x;
            w.AddTensor(name, DType.F32, shape, MemoryMarshal.AsBytes(x.AsSpan()));
        }
        Add("token_embd.weight", 256, 8);
        Add("output_norm.weight", 256);
        Add("output.weight", 256, 8);
        for (int i = 0; i < 2; i++)
        {
            Add($"blk.{i}.attn_norm.weight", 256);
            Add($"blk.{i}.attn_q.weight", 256, 256);
            Add($"blk.{i}.attn_v.weight", 256, 64);
            Add($"blk.{i}.ffn_down.weight", 512, 256);
            Add($"blk.{i}.ffn_up.weight", 256, 512);
        }
        string input = Path.Combine(_dir, "k.gguf"), output = Path.Combine(_dir, "k-q4km.gguf");
        w.Write(input);
        ModelQuantizer.Run(input, output, QuantizationTarget.Parse("q4_k_m"));

        // use_more_bits(i, 2): 2/8 = 0 and 7*2/8 = 1, so layer 1 qualifies (i >= 1) and layer 0 does not (0 % 3 != 2).
        var expected = new Dictionary<string, DType>
        {
            ["token_embd.weight"] = DType.Q4_K, ["output.weight"] = DType.Q6_K, ["output_norm.weight"] = DType.F32,
            ["blk.0.attn_v.weight"] = DType.Q4_K, ["blk.1.attn_v.weight"] = DType.Q6_K,
            ["blk.0.ffn_down.weight"] = DType.Q4_K, ["blk.1.ffn_down.weight"] = DType.Q6_K,
            ["blk.0.attn_q.weight"] = DType.Q4_K, ["blk.1.attn_q.weight"] = DType.Q4_K,
            ["blk.0.ffn_up.weight"] = DType.Q4_K, ["blk.1.ffn_up.weight"] = DType.Q4_K,
            ["blk.0.attn_norm.weight"] = DType.F32, ["blk.1.attn_norm.weight"] = DType.F32,
        };
        using GgufFile f = GgufFile.Open(output);
        Assert.That(f.GetInt("general.file_type"), Is.EqualTo(15));
        foreach (GgufTensorInfo t in f.Tensors)
        {
            Assert.That(t.Type, Is.EqualTo(expected[t.Name]), t.Name);
            var q = new byte[t.ByteSize];
            Quantize.Row(t.Type, data[t.Name], q);   // rows are whole blocks, so the tensor quantizes as one row
            Assert.That(f.TensorBytes(t).SequenceEqual(q), Is.True, t.Name);
        }
    }
}
