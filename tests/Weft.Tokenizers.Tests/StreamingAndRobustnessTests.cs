using System.Diagnostics;
using System.Text;
using Weft.Tests;

namespace Weft.Tokenizers.Tests;

public sealed class StreamingAndRobustnessTests
{
    public static IEnumerable<string> Keys() => RoundTripTests.Lossless().Append("gguf:bert-bge");

    [TestCaseSource(nameof(Keys))]
    public void StreamingNeverEmitsHalfACharacter(string key)
    {
        Tokenizer tok = RoundTripTests.Resolve(key);
        // Emoji and CJK force byte-level or byte-fallback tokens that split characters.
        string text = "Hello 🦙🚀 wörld — 我想在apple工作 😶‍🌫️ ក្រុម ½";
        int[] ids = tok.Encode(text, addSpecial: false);
        StreamingDetokenizer stream = tok.CreateStreamingDetokenizer();
        var sb = new StringBuilder();
        foreach (int id in ids)
        {
            string part = stream.Push(id);
            Assert.That(part, Does.Not.Contain("\uFFFD"), $"{key}: a partial character was emitted");
            if (part.Length > 0)
            {
                Assert.That(char.IsHighSurrogate(part[^1]), Is.False);
            }
            sb.Append(part);
        }
        sb.Append(stream.Flush());
        Assert.That(sb.ToString(), Is.EqualTo(tok.Decode(ids)));
    }

    [Test]
    public void CompletePrefixHoldsIncompleteSequences()
    {
        byte[] euro = Encoding.UTF8.GetBytes("a€");
        Assert.That(StreamingDetokenizer.CompletePrefix(euro), Is.EqualTo(4));
        Assert.That(StreamingDetokenizer.CompletePrefix(euro.AsSpan(0, 3)), Is.EqualTo(1));
        Assert.That(StreamingDetokenizer.CompletePrefix(euro.AsSpan(0, 2)), Is.EqualTo(1));
        Assert.That(StreamingDetokenizer.CompletePrefix([0x80]), Is.EqualTo(1), "a stray continuation byte is emitted (as U+FFFD)");
    }

    [Test]
    public void InvalidIdsGiveAClearError()
    {
        Tokenizer tok = TiktokenConformanceTests.Get("r50k_base.tiktoken");
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => tok.Decode([1, 99999]));
        Assert.That(ex!.Message, Does.Contain("99999").And.Contain("0..50256"));
        Assert.Throws<ArgumentOutOfRangeException>(() => tok.Decode([-1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => tok.CreateStreamingDetokenizer().Push(50257));
    }

    [Test]
    public void MalformedFilesGiveClearErrors()
    {
        string dir = Path.Combine(Path.GetTempPath(), "weft-tok-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        try
        {
            string bad = Path.Combine(dir, "cl100k_base.tiktoken");
            File.WriteAllText(bad, "IQ== 0\nnot-base64!! 1\n");
            var ex = Assert.Throws<TokenizerFormatException>(() => TokenizerLoader.Load(bad));
            Assert.That(ex!.Message, Does.Contain(":2"));
            string json = Path.Combine(dir, "tokenizer.json");
            File.WriteAllText(json, "{\"model\": 5}");
            Assert.Throws<TokenizerFormatException>(() => TokenizerLoader.Load(json));
            Assert.Throws<FileNotFoundException>(() => TokenizerLoader.Load(Path.Combine(dir, "missing.gguf")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    public static IEnumerable<string> FuzzKeys() => ["tiktoken:cl100k_base.tiktoken", "tiktoken:o200k_base.tiktoken", "gguf:llama-spm",
        "gguf:deepseek-llm", "gguf:falcon", "gguf:bert-bge", "llama3"];

    [TestCaseSource(nameof(FuzzKeys))]
    public void RandomInputNeverCrashesAndRoundTrips(string key)
    {
        Tokenizer tok = RoundTripTests.Resolve(key);
        var rng = new Random(20240611);
        // WordPiece lowercases; Falcon's vocabulary has no token for some control bytes (llama.cpp drops them too).
        bool lossless = key is not ("gguf:bert-bge" or "gguf:falcon");
        for (int iter = 0; iter < 300; iter++)
        {
            string text;
            if (iter % 2 == 0)
            {
                // Random bytes, invalid UTF-8 included, decoded the way a host would (U+FFFD replacement).
                byte[] bytes = new byte[rng.Next(0, 64)];
                rng.NextBytes(bytes);
                text = Encoding.UTF8.GetString(bytes);
            }
            else
            {
                var sb = new StringBuilder();
                int len = rng.Next(0, 40);
                for (int i = 0; i < len; i++)
                {
                    int cp = rng.Next(4) switch
                    {
                        0 => rng.Next(0, 0x80),
                        1 => rng.Next(0x80, 0x3000),
                        2 => rng.Next(0x3000, 0x10000),
                        _ => rng.Next(0x10000, 0x110000),
                    };
                    if (cp is >= 0xD800 and <= 0xDFFF)
                    {
                        cp = 0xFFFD;
                    }
                    sb.Append(char.ConvertFromUtf32(cp));
                }
                text = sb.ToString();
            }
            int[] ids = tok.Encode(text, addSpecial: false);
            Assert.That(ids, Has.All.InRange(0, tok.VocabSize - 1));
            if (lossless)
            {
                Assert.That(tok.Decode(ids), Is.EqualTo(text), $"{key}: round trip of {Convert.ToHexString(Encoding.UTF8.GetBytes(text))}");
            }
        }
    }

    [TestCaseSource(nameof(FuzzKeys))]
    public void LongRunsStayLinear(string key)
    {
        Tokenizer tok = RoundTripTests.Resolve(key);
        foreach (char c in new[] { ' ', '9', 'a', '\n', '!' })
        {
            string small = new(c, 10_000), large = new(c, 100_000);
            tok.Encode(small, addSpecial: false);
            var sw = Stopwatch.StartNew();
            int[] ids = tok.Encode(large, addSpecial: false);
            sw.Stop();
            Assert.That(sw.Elapsed.TotalSeconds, Is.LessThan(5), $"{key}: 100k × '{c}' took {sw.Elapsed.TotalSeconds:F1} s");
            if (key != "gguf:bert-bge")
            {
                Assert.That(tok.Decode(ids), Is.EqualTo(large));
            }
        }
    }
}
