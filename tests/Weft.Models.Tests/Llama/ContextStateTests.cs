using Weft.Core;
using Weft.Core.IO;
using Weft.Models.Llama;
using Weft.Tests;

namespace Weft.Models.Tests.Llama;

/// <summary>Context state files: a saved and reloaded context continues exactly like an uninterrupted one; bad files are refused.</summary>
public class ContextStateTests
{
    private static readonly int[] s_prompt = [1, 403, 407, 261, 378, 469, 279, 263, 400, 430, 343, 260];
    private string _dir = "";

    [SetUp]
    public void SetUp()
    {
        if (!Lz4Frame.IsAvailable)
        {
            Assert.Ignore("the system liblz4 is not installed");
        }
        _dir = Path.Combine(Path.GetTempPath(), "weft-state-" + Guid.NewGuid().ToString("N"));
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

    private static LlamaModel Open() => LlamaModel.Load(TestAssets.Require("models/stories260K.gguf"));

    private static ContextParams Params(DType kv = DType.F16, int size = 128) =>
        new() { ContextSize = size, Threads = 1, Backend = BackendChoice.Cpu, KvType = kv };

    private static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++)
        {
            if (x[i] > x[best]) best = i;
        }
        return best;
    }

    private static List<int> Greedy(LlamaContext ctx, int steps)
    {
        var ids = new List<int>();
        int next = ArgMax(ctx.Logits);
        for (int i = 0; i < steps; i++)
        {
            ids.Add(next);
            next = ArgMax(ctx.Decode([next]));
        }
        return ids;
    }

    [TestCase(DType.F16)]
    [TestCase(DType.F32)]
    public void SavedStateContinuesLikeTheUninterruptedContext(DType kv)
    {
        using LlamaModel model = Open();
        using LlamaContext a = model.CreateContext(Params(kv));
        a.Decode(s_prompt);
        string path = Path.Combine(_dir, "state.bin");
        a.SaveState(path);
        float[] logitsAtSave = a.Logits.ToArray();
        List<int> expected = Greedy(a, 40);

        using LlamaContext b = model.CreateContext(Params(kv));
        b.Decode([5, 6, 7]); // something to overwrite
        b.LoadState(path);
        Assert.That(b.Position, Is.EqualTo(s_prompt.Length));
        Assert.That(b.Tokens, Is.EqualTo(s_prompt));
        Assert.That(b.Logits.ToArray(), Is.EqualTo(logitsAtSave));
        Assert.That(Greedy(b, 40), Is.EqualTo(expected));
        Assert.That(Directory.GetFiles(_dir), Has.Length.EqualTo(1), "no temporary file is left beside the state");
    }

    [Test]
    public void EmptyContextRoundTrips()
    {
        using LlamaModel model = Open();
        using LlamaContext a = model.CreateContext(Params());
        string path = Path.Combine(_dir, "empty.bin");
        a.SaveState(path);
        using LlamaContext b = model.CreateContext(Params());
        b.Decode([1, 2, 3]);
        b.LoadState(path);
        Assert.That(b.Position, Is.Zero);
        Assert.That(b.Tokens, Is.Empty);
    }

    private string SavedPrompt(LlamaModel model)
    {
        using LlamaContext a = model.CreateContext(Params());
        a.Decode(s_prompt);
        string path = Path.Combine(_dir, "s.bin");
        a.SaveState(path);
        return path;
    }

    [Test]
    public void RefusesAnotherKvType()
    {
        using LlamaModel model = Open();
        string path = SavedPrompt(model);
        using LlamaContext b = model.CreateContext(Params(DType.F32));
        var e = Assert.Throws<ContextStateException>(() => b.LoadState(path))!;
        Assert.That(e.Message, Does.Contain("f16").And.Contain("f32"));
        Assert.That(b.Position, Is.Zero, "a refused load leaves the context unchanged");
    }

    [Test]
    public void RefusesAContextTooSmall()
    {
        using LlamaModel model = Open();
        string path = SavedPrompt(model);
        using LlamaContext b = model.CreateContext(Params(size: 8));
        Assert.That(() => b.LoadState(path), Throws.TypeOf<ContextStateException>().With.Message.Contains("room for 8"));
    }

    [TestCase(8, "n_layer")]
    [TestCase(20, "n_vocab")]
    [TestCase(0, "magic")]
    [TestCase(4, "version")]
    public void RefusesAnAlteredHeaderField(int offset, string field)
    {
        using LlamaModel model = Open();
        string path = SavedPrompt(model);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[offset] ^= 0x5A;
        File.WriteAllBytes(path, bytes);
        using LlamaContext b = model.CreateContext(Params());
        Assert.That(() => b.LoadState(path), Throws.TypeOf<ContextStateException>().With.Message.Contains(field));
    }

    [Test]
    public void RefusesTruncatedAndCorruptFiles()
    {
        using LlamaModel model = Open();
        string path = SavedPrompt(model);
        byte[] bytes = File.ReadAllBytes(path);
        using LlamaContext b = model.CreateContext(Params());

        File.WriteAllBytes(path, bytes[..20]);
        Assert.That(() => b.LoadState(path), Throws.TypeOf<ContextStateException>().With.Message.Contains("truncated"));

        File.WriteAllBytes(path, bytes[..^7]);
        Assert.That(() => b.LoadState(path), Throws.TypeOf<ContextStateException>().With.Message.Contains("truncated"));

        byte[] corrupt = (byte[])bytes.Clone();
        corrupt[^10] ^= 0xFF; // inside the LZ4 frame (its content checksum catches it)
        File.WriteAllBytes(path, corrupt);
        Assert.That(() => b.LoadState(path), Throws.TypeOf<ContextStateException>().With.Message.Contains("corrupt"));
        Assert.That(b.Position, Is.Zero);

        Assert.That(() => b.LoadState(Path.Combine(_dir, "missing.bin")), Throws.TypeOf<FileNotFoundException>());
    }
}
