using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using System.Text.Json;
using Weft.Models.Llama;
using Weft.Tests;

namespace Weft.Cli.Tests;

/// <summary>The model verbs end to end on stories260K: bench JSON, perplexity vs the library, and bad input.</summary>
public class LlamaCommandTests
{
    private static string Stories => TestAssets.Require("models/stories260K.gguf");

    [Test]
    public async Task BenchJsonHasTheDocumentedFields()
    {
        var (code, output, err) = await CliRunner.Run("bench", "-m", Stories, "-p", "16", "-n", "8", "-r", "2", "-t", "1", "--backend", "cpu", "--no-triad", "--profile", "--json");
        Assert.That(code, Is.EqualTo(0), err);
        using JsonDocument doc = JsonDocument.Parse(output);
        JsonElement root = doc.RootElement;
        Assert.That(root.GetProperty("model").GetString(), Is.EqualTo("stories260K.gguf"));
        Assert.That(root.GetProperty("threads").GetInt32(), Is.EqualTo(1));
        Assert.That(root.GetProperty("repetitions").GetInt32(), Is.EqualTo(2));
        // stories260K is all F32: bytes = 4 × parameters.
        Assert.That(root.GetProperty("model_bytes").GetInt64(), Is.EqualTo(4 * root.GetProperty("n_params").GetInt64()));
        Assert.That(root.GetProperty("weight_bytes_per_token").GetInt64(), Is.LessThanOrEqualTo(root.GetProperty("model_bytes").GetInt64()));
        foreach ((string test, int tokens) in new[] { ("pp", 16), ("tg", 8) })
        {
            JsonElement t = root.GetProperty(test);
            Assert.That(t.GetProperty("tokens").GetInt32(), Is.EqualTo(tokens), test);
            double[] samples = t.GetProperty("tokens_per_s").EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.That(samples, Has.Length.EqualTo(2).And.All.GreaterThan(0), test);
            Assert.That(t.GetProperty("tokens_per_s_mean").GetDouble(), Is.EqualTo(samples.Average()).Within(0.01), test);
            Assert.That(t.GetProperty("ms_per_run_mean").GetDouble(), Is.GreaterThan(0), test);
        }
        Assert.That(root.GetProperty("triad_gb_per_s").ValueKind, Is.EqualTo(JsonValueKind.Null), "--no-triad");
        Assert.That(root.GetProperty("decode_weight_gb_per_s").GetDouble(), Is.GreaterThan(0));
        JsonElement prof = root.GetProperty("profile");
        Assert.That(prof.GetProperty("tokens").GetInt32(), Is.EqualTo(8));
        Assert.That(prof.GetProperty("compute_ms").GetDouble(), Is.GreaterThan(0));
        Assert.That(prof.GetProperty("per_op_ms").TryGetProperty("MatMul(f32)", out _), Is.True);
    }

    [Test]
    public async Task BenchWithNothingToMeasureIsAUsageError()
    {
        var (code, _, err) = await CliRunner.Run("bench", "-m", Stories, "-p", "0", "-n", "0");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("nothing to measure"));
    }

    [Test]
    public async Task PerplexityMatchesTheLibrary()
    {
        byte[] all = File.ReadAllBytes(TestAssets.Require("corpora/war-and-peace.txt"));
        string text = new UTF8Encoding(false, true).GetString(all, 0, 6 * 1024 - CutBack(all, 6 * 1024));
        string file = Path.Combine(Path.GetTempPath(), $"weft-ppl-{Guid.NewGuid():N}.txt");
        File.WriteAllText(file, text);
        try
        {
            // Text output: PerplexityCommand writes --json through Console.OpenStandardOutput(), which CliRunner cannot capture.
            var (code, output, err) = await CliRunner.Run("perplexity", "-m", Stories, "-f", file, "-c", "128", "-t", "1", "--backend", "cpu");
            Assert.That(code, Is.EqualTo(0), err);
            Match m = Regex.Match(output, @"Final estimate: PPL = ([0-9.]+) \+/- ([0-9.]+)");
            Assert.That(m.Success, Is.True, output);

            using LlamaModel model = LlamaModel.Load(Stories);
            using LlamaContext ctx = model.CreateContext(new ContextParams { ContextSize = 128, BatchSize = 512, Threads = 1, Backend = BackendChoice.Cpu });
            PerplexityResult r = Perplexity.Compute(ctx, model.Tokenizer.Encode(text, addSpecial: true), 128);
            Assert.That(m.Groups[1].Value, Is.EqualTo(r.Ppl.ToString("F4", CultureInfo.InvariantCulture)));
            Assert.That(m.Groups[2].Value, Is.EqualTo(r.StdErr.ToString("F5", CultureInfo.InvariantCulture)));
            Assert.That(output, Does.Contain($"[{r.Chunks}]"), "one progress entry per chunk");
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static int CutBack(byte[] b, int n)
    {
        int back = 0;
        while (n - back > 0 && (b[n - back] & 0xC0) == 0x80)
        {
            back++;
        }
        return back;
    }

    [TestCase("--temp", "-1")]
    [TestCase("--top-p", "0")]
    [TestCase("--top-p", "1.5")]
    [TestCase("--top-k", "-3")]
    [TestCase("--min-p", "2")]
    [TestCase("--repeat-penalty", "0")]
    [TestCase("--seed", "abc")]
    public async Task InvalidSamplingValueIsAUsageError(string option, string value)
    {
        var (code, _, err) = await CliRunner.Run("generate", "-m", Stories, "-p", "Once", "-n", "4", option, value);
        Assert.That(code, Is.EqualTo(2), err);
        Assert.That(err, Does.Contain(option));
    }

    [Test]
    public async Task MmapFlagsAreAcceptedAndExcludeEachOther()
    {
        foreach (string flag in new[] { "--mmap", "--no-mmap" })
        {
            var (c, output, e) = await CliRunner.Run("bench", "-m", Stories, "-p", "8", "-n", "4", "-r", "1", "-t", "1", "--backend", "cpu", "--no-triad", "--json", flag);
            Assert.That(c, Is.EqualTo(0), $"{flag}: {e}");
            using JsonDocument doc = JsonDocument.Parse(output);
            Assert.That(doc.RootElement.GetProperty("tg").GetProperty("tokens").GetInt32(), Is.EqualTo(4), flag);
        }
        var (code, _, err) = await CliRunner.Run("bench", "-m", Stories, "-p", "8", "-n", "4", "--mmap", "--no-mmap");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("--mmap and --no-mmap"));
    }

    [Test]
    public async Task PromptLongerThanTheContextFails()
    {
        string prompt = string.Join(' ', Enumerable.Repeat("Once upon a time there was a little girl.", 10));
        var (code, _, err) = await CliRunner.Run("generate", "-m", Stories, "-p", prompt, "-c", "16", "-n", "4", "--backend", "cpu", "--temp", "0");
        Assert.That(code, Is.EqualTo(1), err);
        Assert.That(err, Does.Contain("holds 16 tokens"));
        Assert.That(err, Does.Not.Contain("   at "), "a message, not a stack trace");
    }
}
