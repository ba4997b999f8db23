using System.Text.Json;
using Weft.Tests;

namespace Weft.Cli.Tests;

public class InspectCommandTests
{
    [Test]
    public async Task JsonForStories260K()
    {
        string path = TestAssets.Require("models/stories260K.gguf");
        var (code, output, err) = await CliRunner.Run("inspect", path, "--json");
        Assert.That(code, Is.EqualTo(0), err);
        using JsonDocument doc = JsonDocument.Parse(output);
        JsonElement root = doc.RootElement;
        JsonElement m = root.GetProperty("model");
        Assert.Multiple(() =>
        {
            Assert.That(root.GetProperty("architecture").GetString(), Is.EqualTo("llama"));
            Assert.That(root.GetProperty("ggufVersion").GetInt32(), Is.EqualTo(3));
            Assert.That(root.GetProperty("fileSize").GetInt64(), Is.EqualTo(new FileInfo(path).Length));
            Assert.That(m.GetProperty("blockCount").GetInt32(), Is.EqualTo(5));
            Assert.That(m.GetProperty("embeddingLength").GetInt32(), Is.EqualTo(64));
            Assert.That(m.GetProperty("headCount").GetInt32(), Is.EqualTo(8));
            Assert.That(m.GetProperty("headCountKv").GetInt32(), Is.EqualTo(4));
            Assert.That(m.GetProperty("feedForwardLength").GetInt32(), Is.EqualTo(172));
            Assert.That(m.GetProperty("contextLength").GetInt32(), Is.EqualTo(2048));
            Assert.That(m.GetProperty("ropeDimensionCount").GetInt32(), Is.EqualTo(8));
            Assert.That(m.GetProperty("rmsNormEpsilon").GetSingle(), Is.EqualTo(1e-5f));
            Assert.That(m.GetProperty("vocabSize").GetInt32(), Is.EqualTo(512));
            Assert.That(root.GetProperty("tokenizer").GetProperty("model").GetString(), Is.EqualTo("llama"));
            Assert.That(root.GetProperty("tokenizer").GetProperty("bosTokenId").GetInt32(), Is.EqualTo(1));
            Assert.That(root.GetProperty("tokenizer").GetProperty("eosTokenId").GetInt32(), Is.EqualTo(2));
            Assert.That(root.GetProperty("tensors").GetArrayLength(), Is.EqualTo(48));
            Assert.That(root.GetProperty("totals").GetProperty("tensorCount").GetInt32(), Is.EqualTo(48));
            Assert.That(root.GetProperty("totals").GetProperty("byType").GetProperty("f32").GetInt32(), Is.EqualTo(48));
        });
        // All F32: bytes = 4 * elements, tensor by tensor and in total; the data fills the file after the header.
        long elements = 0, bytes = 0;
        foreach (JsonElement t in root.GetProperty("tensors").EnumerateArray())
        {
            long n = t.GetProperty("shape").EnumerateArray().Aggregate(1L, (a, x) => a * x.GetInt64());
            Assert.That(t.GetProperty("elements").GetInt64(), Is.EqualTo(n));
            Assert.That(t.GetProperty("bytes").GetInt64(), Is.EqualTo(4 * n));
            elements += n;
            bytes += 4 * n;
        }
        Assert.That(root.GetProperty("totals").GetProperty("elements").GetInt64(), Is.EqualTo(elements));
        Assert.That(root.GetProperty("totals").GetProperty("bytes").GetInt64(), Is.EqualTo(bytes));
        Assert.That(root.GetProperty("dataOffset").GetInt64() + bytes, Is.LessThanOrEqualTo(new FileInfo(path).Length));
    }

    [Test]
    public async Task TextForStories260K()
    {
        var (code, output, err) = await CliRunner.Run("inspect", TestAssets.Require("models/stories260K.gguf"));
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(output, Does.Contain("n_layer").And.Contain("blk.4.ffn_down.weight").And.Contain("total: 48 tensors"));
    }

    [Test]
    public async Task BadFileExitsWithOneAndTheFormatMessage()
    {
        string bad = Path.Combine(Path.GetTempPath(), $"weft-inspect-bad-{Environment.ProcessId}.gguf");
        byte[] head = File.ReadAllBytes(TestAssets.Require("models/stories260K.gguf"))[..5000];
        File.WriteAllBytes(bad, head);
        try
        {
            var (code, _, err) = await CliRunner.Run("inspect", bad);
            Assert.That(code, Is.EqualTo(1));
            Assert.That(err, Does.Contain(bad).And.Contain("invalid GGUF").And.Contain("at byte"));
        }
        finally
        {
            File.Delete(bad);
        }
    }

    [Test]
    public async Task UsageErrors()
    {
        Assert.That((await CliRunner.Run("inspect")).Code, Is.EqualTo(2));
        Assert.That((await CliRunner.Run("inspect", "a", "b")).Code, Is.EqualTo(2));
        Assert.That((await CliRunner.Run("inspect", "a.gguf", "--bogus")).Code, Is.EqualTo(2));
        Assert.That((await CliRunner.Run("inspect", "/nonexistent/x.gguf")).Code, Is.EqualTo(1));
    }

    public static IEnumerable<string> Vocabs()
    {
        string dir = Path.Combine(TestAssets.Root, "tokenizers", "llamacpp");
        return Directory.Exists(dir) ? Directory.GetFiles(dir, "*.gguf").Select(Path.GetFileName).OrderBy(x => x, StringComparer.Ordinal)! : [];
    }

    [TestCaseSource(nameof(Vocabs))]
    public async Task EveryLlamaCppVocabInspects(string name)
    {
        var (code, output, err) = await CliRunner.Run("inspect", TestAssets.Require("tokenizers/llamacpp/" + name), "--json");
        Assert.That(code, Is.EqualTo(0), err);
        using JsonDocument doc = JsonDocument.Parse(output);
        Assert.That(doc.RootElement.GetProperty("totals").GetProperty("tensorCount").GetInt32(), Is.Zero);
        Assert.That(doc.RootElement.GetProperty("tokenizer").GetProperty("tokenCount").GetInt32(), Is.GreaterThan(1000));
    }
}
