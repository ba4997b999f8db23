using Weft.Models.Sampling;

namespace Weft.Models.Tests.Sampling;

public class SamplerTests
{
    [Test]
    public void Mt19937MatchesTheStandardSequence()
    {
        // std::mt19937 with the default seed 5489: the C++ standard fixes its 10000th output at 4123659995.
        var rng = new Mt19937(5489);
        uint v = 0;
        for (int i = 0; i < 10000; i++)
        {
            v = rng.NextUInt32();
        }
        Assert.That(v, Is.EqualTo(4123659995u));
        var first = new Mt19937(5489);
        Assert.That(first.NextUInt32(), Is.EqualTo(3499211612u));
    }

    [Test]
    public void GreedyPicksArgmaxAndLowestIdOnTies()
    {
        var s = new Sampler(SamplingParams.Greedy, 5);
        Assert.That(s.Sample([0.1f, 3f, -1f, 2.9f, 3f]), Is.EqualTo(1));
    }

    [Test]
    public void LogitBiasCanBanTheTopToken()
    {
        var p = SamplingParams.Greedy with { LogitBias = new Dictionary<int, float> { [1] = float.NegativeInfinity } };
        Assert.That(new Sampler(p, 3).Sample([0f, 5f, 1f]), Is.EqualTo(2));
    }

    [Test]
    public void RepeatPenaltyDividesPositiveAndMultipliesNegativeLogits()
    {
        var p = SamplingParams.Greedy with { RepeatPenalty = 2f, PenaltyLastN = 8 };
        var s = new Sampler(p, 3);
        s.Accept(0);
        // token 0: 3 -> 1.5 < token 1: 2
        Assert.That(s.Sample([3f, 2f, -1f]), Is.EqualTo(1));
        var s2 = new Sampler(p with { RepeatPenalty = 1.5f }, 2);
        s2.Accept(1);
        // token 1: -1 * 1.5 = -1.5 < token 0: -1.2
        Assert.That(s2.Sample([-1.2f, -1f]), Is.EqualTo(0));
    }

    [Test]
    public void FrequencyAndPresencePenaltiesSubtractAndWindowForgets()
    {
        var p = SamplingParams.Greedy with { FrequencyPenalty = 1f, PresencePenalty = 0.5f, PenaltyLastN = 2 };
        var s = new Sampler(p, 2);
        s.Accept(0);
        s.Accept(0);
        // token 0: 3 - 2*1 - 0.5 = 0.5 < 1
        Assert.That(s.Sample([3f, 1f]), Is.EqualTo(1));
        s.Accept(1);
        s.Accept(1); // token 0 left the 2-token window
        Assert.That(s.Sample([3f, 1f]), Is.EqualTo(0));
    }

    [Test]
    public void SameSeedSameTokensAndTopKOneIsGreedy()
    {
        float[] logits = Enumerable.Range(0, 100).Select(i => MathF.Sin(i * 0.37f) * 3f).ToArray();
        var p = new SamplingParams { Temperature = 1.0f, TopK = 0, TopP = 1f, MinP = 0f, Seed = 42 };
        var a = new Sampler(p, 100);
        var b = new Sampler(p, 100);
        int[] sa = Enumerable.Range(0, 50).Select(_ => a.Sample(logits)).ToArray();
        int[] sb = Enumerable.Range(0, 50).Select(_ => b.Sample(logits)).ToArray();
        Assert.That(sa, Is.EqualTo(sb));
        Assert.That(sa.Distinct().Count(), Is.GreaterThan(3), "temperature 1 over a flat-ish distribution must vary");
        var k1 = new Sampler(p with { TopK = 1 }, 100);
        int argmax = Array.IndexOf(logits, logits.Max());
        Assert.That(Enumerable.Range(0, 20).Select(_ => k1.Sample(logits)), Is.All.EqualTo(argmax));
    }

    [Test]
    public void SampledFrequenciesFollowTheSoftmax()
    {
        float[] logits = [MathF.Log(0.5f), MathF.Log(0.3f), MathF.Log(0.2f)];
        var s = new Sampler(new SamplingParams { Temperature = 1f, TopK = 0, TopP = 1f, MinP = 0f, Seed = 7 }, 3);
        var counts = new int[3];
        for (int i = 0; i < 20000; i++)
        {
            counts[s.Sample(logits)]++;
        }
        Assert.That(counts[0] / 20000.0, Is.EqualTo(0.5).Within(0.015));
        Assert.That(counts[1] / 20000.0, Is.EqualTo(0.3).Within(0.015));
        Assert.That(counts[2] / 20000.0, Is.EqualTo(0.2).Within(0.015));
    }

    [Test]
    public void TopPAndMinPTruncate()
    {
        float[] logits = [MathF.Log(0.6f), MathF.Log(0.25f), MathF.Log(0.1f), MathF.Log(0.05f)];
        var topP = new Sampler(new SamplingParams { Temperature = 1f, TopK = 0, TopP = 0.8f, MinP = 0f, Seed = 1 }, 4);
        var seenP = Enumerable.Range(0, 2000).Select(_ => topP.Sample(logits)).ToHashSet();
        Assert.That(seenP, Is.EquivalentTo(new[] { 0, 1 }));
        var minP = new Sampler(new SamplingParams { Temperature = 1f, TopK = 0, TopP = 1f, MinP = 0.2f, Seed = 1 }, 4);
        var seenM = Enumerable.Range(0, 2000).Select(_ => minP.Sample(logits)).ToHashSet();
        Assert.That(seenM, Is.EquivalentTo(new[] { 0, 1 }));
    }

    [TestCase(nameof(SamplingParams.TopP), 0f, "top_p")]
    [TestCase(nameof(SamplingParams.TopP), 1.5f, "top_p")]
    [TestCase(nameof(SamplingParams.MinP), -0.1f, "min_p")]
    [TestCase(nameof(SamplingParams.Temperature), float.NaN, "temperature")]
    [TestCase(nameof(SamplingParams.RepeatPenalty), 0f, "repeat_penalty")]
    public void InvalidSettingsAreRejected(string field, float value, string expected)
    {
        SamplingParams p = field switch
        {
            nameof(SamplingParams.TopP) => new SamplingParams { TopP = value },
            nameof(SamplingParams.MinP) => new SamplingParams { MinP = value },
            nameof(SamplingParams.Temperature) => new SamplingParams { Temperature = value },
            _ => new SamplingParams { RepeatPenalty = value },
        };
        var ex = Assert.Throws<ArgumentException>(() => _ = new Sampler(p, 10));
        Assert.That(ex!.Message, Does.Contain(expected));
        Assert.Throws<ArgumentException>(() => _ = new Sampler(new SamplingParams { LogitBias = new Dictionary<int, float> { [10] = 1f } }, 10));
    }
}
