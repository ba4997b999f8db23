using Weft.Core;
using Weft.Core.Gguf;
using Weft.Models.Llama;
using Weft.Models.Synth;
using Weft.Tests;

namespace Weft.Models.Tests.Llama;

/// <summary>Models that cannot be run are refused at load with an error naming the file and what is wrong.</summary>
public class BadModelTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "weft-badmodel-" + Guid.NewGuid().ToString("N"));
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

    /// <summary>Copies stories260K with <paramref name="edit"/> applied to the metadata and tensor list.</summary>
    private string Variant(string name, Action<GgufFile, GgufWriter> edit, string? source = null)
    {
        string path = Path.Combine(_dir, name + ".gguf");
        using GgufFile src = GgufFile.Open(source ?? TestAssets.Require("models/stories260K.gguf"));
        var w = new GgufWriter();
        foreach (string k in src.MetadataKeys)
        {
            w.Set(k, src.Metadata[k]);
        }
        edit(src, w);
        w.Write(path);
        return path;
    }

    private static void CopyTensors(GgufFile src, GgufWriter w, Func<GgufTensorInfo, bool> keep)
    {
        foreach (GgufTensorInfo t in src.Tensors)
        {
            GgufTensorInfo info = t;
            if (keep(t))
            {
                w.AddTensor(t.Name, t.Type, t.Shape, s => GgufWriter.CopyTensor(src, info, s));
            }
        }
    }

    private static string LoadError(string path)
    {
        var e = Assert.Throws<ModelFormatException>(() => LlamaModel.Load(path).Dispose())!;
        Assert.That(e.Message, Does.StartWith(path), "the error names the file");
        return e.Message;
    }

    [Test]
    public void UnsupportedArchitecture()
    {
        string path = Variant("gpt2", (src, w) =>
        {
            w.Set("general.architecture", GgufValue.Of("gpt2"));
            CopyTensors(src, w, _ => true);
        });
        Assert.That(LoadError(path), Does.Contain("'gpt2'").And.Contain("not supported"));
    }

    [Test]
    public void MissingTensor()
    {
        string path = Variant("missing", (src, w) => CopyTensors(src, w, t => t.Name != "blk.3.ffn_up.weight"));
        Assert.That(LoadError(path), Does.Contain("blk.3.ffn_up.weight").And.Contain("missing"));
    }

    [Test]
    public void WrongShape()
    {
        string path = Variant("shape", (src, w) =>
        {
            CopyTensors(src, w, t => t.Name != "blk.1.attn_k.weight");
            w.AddTensor("blk.1.attn_k.weight", DType.F32, [64, 16], new byte[64 * 16 * 4]);
        });
        Assert.That(LoadError(path), Does.Contain("blk.1.attn_k.weight").And.Contain("[64, 16]").And.Contain("expected [64, 32]"));
    }

    [Test]
    public void UnsupportedTensorType()
    {
        // Q2_K is a type the GGUF reader knows but Weft cannot compute with. Its blocks hold 256 values, so start from
        // a synthetic model whose rows are 256 wide and swap one matrix for a Q2_K one.
        string synth = Path.Combine(_dir, "synth.gguf");
        using (GgufFile vocab = GgufFile.Open(TestAssets.Require("models/stories260K.gguf")))
        {
            SyntheticLlama.Write(new SynthOptions { Preset = new SynthPreset("t256", 256, 1, 4, 2, 256), Seed = 3 }, vocab, synth);
        }
        long bytes = TypeTraits.Of(DType.Q2_K).RowSize(256) * 256;
        string path = Variant("q2k", (src, w) =>
        {
            CopyTensors(src, w, t => t.Name != "blk.0.ffn_gate.weight");
            w.AddTensor("blk.0.ffn_gate.weight", DType.Q2_K, [256, 256], new byte[bytes]);
        }, synth);
        Assert.That(LoadError(path), Does.Contain("blk.0.ffn_gate.weight").And.Contain("q2_k"));
    }
}
