using System.Runtime.InteropServices;
using Weft.Core;
using Weft.Core.Gguf;
using Weft.Core.Quants;
using Weft.Models.Llama;
using Weft.Models.Synth;
using Weft.Tests;

namespace Weft.Models.Tests.Llama;

/// <summary>
/// A quantized model against the same model with its weights dequantized to F32: the only difference left is that the
/// quantized matmuls quantize their activations (to q8_0 blocks of 32 for q8_0/q4_0, to q8_K blocks of 256 for the
/// k-quants), so the logits must agree within the error that activation rounding explains.
/// </summary>
public class QuantizedConsistencyTests
{
    // n_embd 256 and n_ff 512 so every matrix row is a whole number of k-quant super-blocks (256).
    private static readonly SynthPreset s_preset = new("test256", 256, 2, 4, 2, 512, ContextLength: 256);
    private static readonly int[] s_tokens = [1, 403, 407, 261, 378, 469, 279, 263, 400, 430, 343, 260, 17, 99, 311, 2];
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
        if (_dir.Length > 0 && Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    /// <summary>Writes the synthetic model in <paramref name="type"/> and the same weights dequantized to F32.</summary>
    private (string Quantized, string Dequantized) WriteModels(DType type)
    {
        string q = Path.Combine(_dir, $"m-{TypeTraits.Of(type).Name}.gguf");
        string f = Path.Combine(_dir, $"m-{TypeTraits.Of(type).Name}-deq.gguf");
        using (GgufFile vocab = GgufFile.Open(TestAssets.Require("models/stories260K.gguf")))
        {
            var o = new SynthOptions { Preset = s_preset, Seed = 11, WeightType = type, FallbackType = DType.F32, Scale = 0.05f, Encoder = (t, src, dst) => Quantize.Row(t, src, dst) };
            SyntheticLlama.Write(o, vocab, q);
        }
        using GgufFile qf = GgufFile.Open(q);
        var w = new GgufWriter();
        foreach (string k in qf.MetadataKeys)
        {
            w.Set(k, qf.Metadata[k]);
        }
        w.Set("general.file_type", GgufValue.Of(0u));
        w.Remove("general.quantization_version");
        foreach (GgufTensorInfo t in qf.Tensors)
        {
            GgufTensorInfo info = t;
            if (!TypeTraits.Of(t.Type).IsQuantized)
            {
                w.AddTensor(t.Name, t.Type, t.Shape, s => GgufWriter.CopyTensor(qf, info, s));
                continue;
            }
            Assert.That(t.Type, Is.EqualTo(type), t.Name);
            w.AddTensor(t.Name, DType.F32, t.Shape, s =>
            {
                long ne0 = info.Ne[0];
                ReadOnlySpan<byte> bytes = qf.TensorBytes(info);
                long rowBytes = TypeTraits.Of(info.Type).RowSize(ne0);
                var row = new float[ne0];
                for (long r = 0; r < info.ElementCount / ne0; r++)
                {
                    Dequantize.Row(info.Type, bytes.Slice((int)(r * rowBytes), (int)rowBytes), row);
                    s.Write(MemoryMarshal.AsBytes(row.AsSpan()));
                }
            });
        }
        w.Write(f);
        return (q, f);
    }

    private static float[] Logits(string path, DType kv)
    {
        using LlamaModel m = LlamaModel.Load(path);
        using LlamaContext ctx = m.CreateContext(new ContextParams { ContextSize = 64, Threads = 2, Backend = BackendChoice.Cpu, KvType = kv });
        float[] all = ctx.DecodeAll(s_tokens.AsSpan(0, 8)); // a batch through the matrix-matrix path
        var rows = new List<float>(all);
        for (int i = 8; i < s_tokens.Length; i++)
        {
            rows.AddRange(ctx.Decode(s_tokens.AsSpan(i, 1)).ToArray()); // then one token at a time (matrix-vector path)
        }
        return rows.ToArray();
    }

    private static (double MaxAbs, double RelRms) Compare(float[] got, float[] reference)
    {
        double max = 0, err2 = 0, ref2 = 0;
        for (int i = 0; i < got.Length; i++)
        {
            double d = got[i] - reference[i];
            max = Math.Max(max, Math.Abs(d));
            err2 += d * d;
            ref2 += (double)reference[i] * reference[i];
        }
        return (max / Math.Sqrt(ref2 / got.Length), Math.Sqrt(err2 / ref2));
    }

    // Bounds on the error relative to the RMS of the reference logits (RMS of the difference, and max |difference|).
    // One activation rounding to a block's amax/127 step leaves a relative RMS error of about
    // (amax/rms)/(127·√12): ≈ 0.6% for q8_0 blocks of 32 (amax ≈ 2.5 rms) and ≈ 0.8% for q8_K blocks of 256
    // (amax ≈ 3.5 rms). Each token passes ~15 quantized matmuls (2 layers × 7, plus the output), whose independent
    // errors add in quadrature (×√15 ≈ ×4): ≈ 2.5% and ≈ 3%; the bounds leave a factor of 2, and allow the max over
    // 16 × 512 logits to reach 5 × the RMS bound. A wrong kernel, block layout or scale gives errors of order 100%.
    [TestCase(DType.Q8_0, 0.05)]
    [TestCase(DType.Q4_0, 0.05)]
    [TestCase(DType.Q4_K, 0.06)]
    [TestCase(DType.Q6_K, 0.06)]
    public void QuantizedLogitsMatchDequantizedWeights(DType type, double relRmsBound)
    {
        (string q, string f) = WriteModels(type);
        float[] quant = Logits(q, DType.F32);
        float[] reference = Logits(f, DType.F32);
        (double maxAbs, double relRms) = Compare(quant, reference);
        TestContext.Out.WriteLine($"{TypeTraits.Of(type).Name}: relative RMS error {relRms:E3}, max |diff| / RMS {maxAbs:E3}");
        Assert.That(relRms, Is.LessThan(relRmsBound));
        Assert.That(maxAbs, Is.LessThan(5 * relRmsBound));
        Assert.That(relRms, Is.GreaterThan(0), "the quantized path quantizes activations, so some difference is expected");
    }

    [Test]
    public void F16KvCacheMatchesF32KvCache()
    {
        using LlamaModel m = LlamaModel.Load(TestAssets.Require("models/stories260K.gguf"));
        float[] Run(DType kv)
        {
            using LlamaContext ctx = m.CreateContext(new ContextParams { ContextSize = 64, Threads = 1, Backend = BackendChoice.Cpu, KvType = kv });
            var rows = new List<float>(ctx.DecodeAll(s_tokens.AsSpan(0, 8)));
            for (int i = 8; i < s_tokens.Length; i++)
            {
                rows.AddRange(ctx.Decode(s_tokens.AsSpan(i, 1)).ToArray());
            }
            return rows.ToArray();
        }
        float[] f16 = Run(DType.F16), f32 = Run(DType.F32);
        double max = 0, range = 0;
        for (int i = 0; i < f16.Length; i++)
        {
            max = Math.Max(max, Math.Abs(f16[i] - f32[i]));
            range = Math.Max(range, Math.Abs(f32[i]));
        }
        TestContext.Out.WriteLine($"F16 vs F32 KV: max |diff| {max:E3}, max |logit| {range:E3}, ratio {max / range:E3}");
        // F16 keeps 11 significant bits: K and V are rounded by at most 2^-11 ≈ 4.9e-4 of their value. Attention mixes
        // those rounded values and the later layers propagate the change; allow 4 half-ulps of the largest logit.
        // (stories260K measures about 9.5e-4 here: 1.8e-2 absolute on logits up to 18.9.)
        Assert.That(max / range, Is.LessThanOrEqualTo(4 * Math.Pow(2, -11)));
        Assert.That(f16, Is.Not.EqualTo(f32), "F16 rounding of K and V must change something");
    }

    /// <summary>
    /// The check on the synthetic 135m model (SmolLM-135M shape, F16 weights, default weight scale): a 16-token
    /// prompt batch then 16 single-token steps, F16 KV against F32 KV.
    /// </summary>
    [Test]
    public void F16KvCacheMatchesF32KvCacheOnSynthetic135m()
    {
        string path = Path.Combine(_dir, "135m-f16.gguf");
        using (GgufFile vocab = GgufFile.Open(TestAssets.Require("tokenizers/llamacpp/ggml-vocab-llama-spm.gguf")))
        {
            SyntheticLlama.Write(new SynthOptions { Preset = SynthPreset.Llama135M, Seed = 3, WeightType = DType.F16 }, vocab, path);
        }
        using LlamaModel m = LlamaModel.Load(path);
        int[] prompt = [1, 450, 4996, 17354, 1701, 975, 278, 17366, 11203, 29889, 450, 2, 319, 8665, 338, 263];
        (float[] Logits, int[] Ids) Run(DType kv)
        {
            using LlamaContext ctx = m.CreateContext(new ContextParams { ContextSize = 64, Threads = 2, Backend = BackendChoice.Cpu, KvType = kv });
            var rows = new List<float>(ctx.DecodeAll(prompt));
            int vocabSize = m.HParams.NVocab;
            var ids = new List<int>();
            // Both runs feed the same tokens (the F32 run's greedy choices are not used), so every row is comparable.
            for (int i = 0; i < 16; i++)
            {
                int next = (prompt[i] * 31 + 7) % vocabSize;
                ids.Add(next);
                rows.AddRange(ctx.Decode([next]).ToArray());
            }
            return (rows.ToArray(), ids.ToArray());
        }
        (float[] f16, _) = Run(DType.F16);
        (float[] f32, _) = Run(DType.F32);
        Assert.That(f16, Has.Length.EqualTo(f32.Length));
        double max = 0, range = 0, err2 = 0;
        for (int i = 0; i < f16.Length; i++)
        {
            double d = f16[i] - f32[i];
            max = Math.Max(max, Math.Abs(d));
            err2 += d * d;
            range = Math.Max(range, Math.Abs(f32[i]));
        }
        double rms = Math.Sqrt(err2 / f16.Length);
        TestContext.Out.WriteLine($"135m F16 vs F32 KV over {f16.Length} logits: max |diff| {max:E3}, RMS diff {rms:E3}, max |logit| {range:E3}");
        // Only K and V differ (rounded to 11 significant bits, ≤ 2^-12 relative each; the kernel keeps Q, the dots and
        // the accumulation in F32, where ggml's CPU kernel also rounds Q and the V accumulator to F16). Measured over
        // 30 layers and 32 positions: RMS difference 2.9e-4, worst of the 1,024,000 logits 1.5e-3 absolute (6e-4 of the
        // largest logit, 2.44). Bounds: 1e-3 of the largest logit for the worst one, 5e-4 absolute for the RMS.
        Assert.That(max / range, Is.LessThanOrEqualTo(1e-3));
        Assert.That(rms, Is.LessThanOrEqualTo(5e-4));
        Assert.That(f16, Is.Not.EqualTo(f32), "F16 rounding of K and V must change something");
    }
}
