using System.Text.Json;
using Weft.Tests;

namespace Weft.Cli.Tests;

public class SynthCommandTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), $"weft-synth-cli-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task TinyIsDeterministicAndInspectable()
    {
        string vocab = TestAssets.Require("tokenizers/llamacpp/ggml-vocab-llama-spm.gguf");
        string a = Path.Combine(_dir, "a.gguf"), b = Path.Combine(_dir, "b.gguf");
        var r1 = await CliRunner.Run("synth", "--arch", "llama", "--preset", "tiny", "--seed", "42", "--vocab", vocab, "-o", a);
        Assert.That(r1.Code, Is.EqualTo(0), r1.Err);
        Assert.That(r1.Out, Does.Contain("21 tensors"));
        var r2 = await CliRunner.Run("synth", "--preset", "tiny", "--seed", "42", "--vocab", vocab, "-o", b, "--type", "f32", "--scale", "0.02");
        Assert.That(r2.Code, Is.EqualTo(0), r2.Err);
        Assert.That(File.ReadAllBytes(a), Is.EqualTo(File.ReadAllBytes(b)));

        var (code, output, err) = await CliRunner.Run("inspect", a, "--json");
        Assert.That(code, Is.EqualTo(0), err);
        JsonElement m = JsonDocument.Parse(output).RootElement.GetProperty("model");
        Assert.That(m.GetProperty("blockCount").GetInt32(), Is.EqualTo(2));
        Assert.That(m.GetProperty("vocabSize").GetInt32(), Is.EqualTo(32000));
        Assert.That(m.GetProperty("fileTypeName").GetString(), Is.EqualTo("ALL_F32"));
    }

    [Test]
    public async Task F16Type()
    {
        string vocab = TestAssets.Require("tokenizers/llamacpp/ggml-vocab-llama-spm.gguf");
        string a = Path.Combine(_dir, "h.gguf");
        var r = await CliRunner.Run("synth", "--preset", "tiny", "--seed", "1", "--type", "f16", "--vocab", vocab, "-o", a);
        Assert.That(r.Code, Is.EqualTo(0), r.Err);
        var (_, output, _) = await CliRunner.Run("inspect", a, "--json");
        JsonElement byType = JsonDocument.Parse(output).RootElement.GetProperty("totals").GetProperty("byType");
        Assert.That(byType.GetProperty("f16").GetInt32(), Is.EqualTo(2 + 2 * 7));
        Assert.That(byType.GetProperty("f32").GetInt32(), Is.EqualTo(1 + 2 * 2));
    }

    [TestCase("--preset", "7b")]
    [TestCase("--type", "q4_k")]
    [TestCase("--seed", "-1")]
    [TestCase("--arch", "gpt2")]
    [TestCase("--scale", "0")]
    public async Task UsageErrors(string option, string value)
    {
        var args = new Dictionary<string, string> { ["--preset"] = "tiny", ["--seed"] = "1", ["-o"] = Path.Combine(_dir, "x.gguf") };
        args[option] = value;
        var r = await CliRunner.Run(["synth", .. args.SelectMany(kv => new[] { kv.Key, kv.Value })]);
        Assert.That(r.Code, Is.EqualTo(2), r.Err);
        Assert.That(File.Exists(Path.Combine(_dir, "x.gguf")), Is.False);
    }

    [Test]
    public async Task BadVocabFileExitsWithOne()
    {
        string bad = Path.Combine(_dir, "bad.gguf");
        File.WriteAllText(bad, "not a gguf file at all");
        var r = await CliRunner.Run("synth", "--preset", "tiny", "--seed", "1", "--vocab", bad, "-o", Path.Combine(_dir, "x.gguf"));
        Assert.That(r.Code, Is.EqualTo(1));
        Assert.That(r.Err, Does.Contain("invalid GGUF").And.Contain("header.magic"));
    }
}
