using Weft.Flows.Evaluation;

namespace Weft.Flows.Tests;

public class MetricTests
{
    private static string[] W(string s) => s.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    // Papineni et al. 2002 example as used in NLTK's bleu_score documentation (sentence_bleu -> 0.5045666840058485).
    private static readonly string[] Hyp1 = W("It is a guide to action which ensures that the military always obeys the commands of the party");
    private static readonly IReadOnlyList<string>[] Refs =
    [
        W("It is a guide to action that ensures that the military will forever heed Party commands"),
        W("It is the guiding principle which guarantees the military forces always being under the command of the Party"),
        W("It is the practical guide for the army always to heed the directions of the party"),
    ];

    [Test]
    public void BleuMatchesPublishedWorkedExample()
    {
        Assert.That(TextMetrics.Bleu(Hyp1, Refs), Is.EqualTo(0.5045666840058485).Within(1e-12));
        // Modified precisions from the same example: 17/18 unigrams, 10/17 bigrams.
        Assert.That(TextMetrics.ModifiedPrecision(Hyp1, Refs, 1), Is.EqualTo((17, 18)));
        Assert.That(TextMetrics.ModifiedPrecision(Hyp1, Refs, 2), Is.EqualTo((10, 17)));
        // Papineni's "the the the ..." candidate: modified unigram precision 2/7.
        Assert.That(TextMetrics.ModifiedPrecision(W("the the the the the the the"), [W("the cat is on the mat"), W("there is a cat on the mat")], 1), Is.EqualTo((2, 7)));
        Assert.That(TextMetrics.Bleu(Hyp1, [Hyp1]), Is.EqualTo(1.0).Within(1e-12));
    }

    [Test]
    public void RougeMatchesPublishedExamples()
    {
        // "the cat was found under the bed" vs reference "the cat was under the bed".
        string[] cand = TextMetrics.RougeTokens("The cat was found under the bed"), reference = TextMetrics.RougeTokens("the cat was under the bed");
        RougeScore r1 = TextMetrics.RougeN(cand, reference, 1);
        Assert.That(r1.Recall, Is.EqualTo(1.0));
        Assert.That(r1.Precision, Is.EqualTo(6.0 / 7));
        RougeScore r2 = TextMetrics.RougeN(cand, reference, 2);
        Assert.That(r2.Recall, Is.EqualTo(4.0 / 5));
        Assert.That(r2.Precision, Is.EqualTo(4.0 / 6));
        // Lin (2004) ROUGE-L: reference "police killed the gunman"; S2 scores 3/4, S3 2/4.
        string[] s1 = W("police killed the gunman");
        Assert.That(TextMetrics.RougeL(W("police kill the gunman"), s1).F1, Is.EqualTo(0.75));
        Assert.That(TextMetrics.RougeL(W("the gunman kill police"), s1).F1, Is.EqualTo(0.5));
    }

    [Test]
    public void F1AndExactMatchOnHandMadeCases()
    {
        Assert.That(TextMetrics.ExactMatch("The Cat!", "cat"), Is.EqualTo(1));
        Assert.That(TextMetrics.ExactMatch("The Cat!", "cat", normalize: false), Is.EqualTo(0));
        Assert.That(TextMetrics.ExactMatch("a dog", "cat"), Is.EqualTo(0));
        // prediction "the big red dog" -> [big, red, dog]; reference "a red dog barked" -> [red, dog, barked]: 2 common, P=R=2/3.
        Assert.That(TextMetrics.TokenF1("the big red dog", "a red dog barked"), Is.EqualTo(2.0 / 3).Within(1e-12));
        // [cat, cat] vs [cat]: 1 common, P=1/2, R=1 -> F1 = 2/3.
        Assert.That(TextMetrics.TokenF1("cat cat", "cat"), Is.EqualTo(2.0 / 3).Within(1e-12));
        Assert.That(TextMetrics.TokenF1("dog", "cat"), Is.EqualTo(0));
        Assert.That(TextMetrics.Cosine([1, 0], [0, 1]), Is.EqualTo(0));
        Assert.That(TextMetrics.Cosine([1, 2], [2, 4]), Is.EqualTo(1).Within(1e-12));
        Assert.Throws<ArgumentException>(() => TextMetrics.Cosine([1], [1, 2]));
    }

    [Test]
    public void CalculatorEvaluatesAndRejects()
    {
        Assert.That(Calculator.Evaluate("2*(3+4) - 2^3"), Is.EqualTo(6));
        Assert.That(Calculator.Evaluate("sqrt(16) + max(1, 7, 3) % 4"), Is.EqualTo(7));
        Assert.That(Calculator.Evaluate("-1.5e1/3"), Is.EqualTo(-5));
        Assert.Throws<FormatException>(() => Calculator.Evaluate("2 +"));
        Assert.Throws<FormatException>(() => Calculator.Evaluate("foo(1)"));
    }
}
