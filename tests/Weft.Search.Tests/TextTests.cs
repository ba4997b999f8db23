using Weft.Search.Text;

namespace Weft.Search.Tests;

public sealed class TextTests
{
    [Test]
    public void TokenChunkerRespectsSizeAndOverlapAndCoversEveryWord()
    {
        string text = string.Join(" ", Enumerable.Range(0, 500).Select(i => "w" + i));
        var doc = SourceDocument.Plain("t.txt", text);
        var chunker = new TokenChunker(WordTokenCounter.Instance, 50, 10);
        List<TextChunk> chunks = chunker.Chunk(doc).ToList();
        Assert.That(chunks.All(c => WordTokenCounter.Instance.Count(c.Text) <= 50), Is.True);
        Assert.That(chunks.All(c => c.Text == text[c.Start..c.End]), Is.True);
        var seen = chunks.SelectMany(c => c.Text.Split(' ')).ToHashSet();
        Assert.That(seen, Has.Count.EqualTo(500));
        for (int i = 1; i < chunks.Count; i++)
        {
            string[] prev = chunks[i - 1].Text.Split(' '), cur = chunks[i].Text.Split(' ');
            Assert.That(prev.Intersect(cur).Count(), Is.EqualTo(10), $"overlap between chunk {i - 1} and {i}");
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => new TokenChunker(WordTokenCounter.Instance, 10, 10));
    }

    [Test]
    public void MarkdownSectionsCarryHeadingPaths()
    {
        string md = "Intro text.\n\n# Install\n\nRun the installer.\n\n## Linux\n\nUse apt.\n\n```\n# not a heading\n```\n\n# Usage\n\nCall it.\n";
        SourceDocument doc = DocumentLoader.ParseMarkdown("r.md", md);
        Assert.That(doc.Sections.Select(s => string.Join("/", s.Headings)), Is.EqualTo(new[] { "", "Install", "Install/Linux", "Usage" }));
        List<TextChunk> chunks = new RecursiveChunker(WordTokenCounter.Instance, 100).Chunk(doc).ToList();
        Assert.That(chunks.Single(c => c.Text.Contains("apt")).Headings, Is.EqualTo(new[] { "Install", "Linux" }));
        Assert.That(chunks.Single(c => c.Text.Contains("not a heading")).Headings, Is.EqualTo(new[] { "Install", "Linux" }));
        Assert.That(chunks.All(c => c.Text == md[c.Start..c.End]), Is.True);
    }

    [Test]
    public void RecursiveChunkerSplitsLongSectionsBySentences()
    {
        string para = string.Join(" ", Enumerable.Range(0, 40).Select(i => $"Sentence number {i} is here."));
        var doc = SourceDocument.Plain("p.txt", para);
        List<TextChunk> chunks = new RecursiveChunker(WordTokenCounter.Instance, 30).Chunk(doc).ToList();
        Assert.That(chunks, Has.Count.GreaterThan(5));
        Assert.That(chunks.All(c => WordTokenCounter.Instance.Count(c.Text) <= 30 && c.Text.EndsWith('.')), Is.True);
    }

    [Test]
    public void JsonLinesBecomeDocumentsWithMetadataAndBadLinesAreNamed()
    {
        string dir = Directory.CreateTempSubdirectory("weft-jsonl").FullName;
        try
        {
            string f = Path.Combine(dir, "d.jsonl");
            File.WriteAllText(f, "{\"id\":\"a\",\"text\":\"hello\",\"lang\":\"en\",\"n\":3}\n\n{\"text\":\"bye\"}\n");
            var docs = DocumentLoader.Load([dir]).ToList();
            Assert.That(docs.Select(d => d.Source), Is.EqualTo(new[] { f + "#a", f + "#3" }));
            Assert.That(docs[0].Metadata["lang"], Is.EqualTo("en"));
            Assert.That(docs[0].Metadata["n"], Is.EqualTo("3"));
            File.WriteAllText(f, "{\"text\":\"ok\"}\n{\"body\":\"x\"}\n");
            Assert.That(Assert.Throws<InvalidDataException>(() => DocumentLoader.Load([f]).ToList())!.Message, Does.Contain(f + ":2"));
            Assert.Throws<FileNotFoundException>(() => DocumentLoader.Load([Path.Combine(dir, "none.md")]).ToList());
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Test]
    public void Bm25MatchesHandComputedScores()
    {
        var bm = new Bm25Index(k1: 1.2, b: 0.75);
        bm.Add("apple banana apple");   // len 3
        bm.Add("banana cherry");        // len 2
        bm.Add("cherry durian elder");  // len 3
        List<(int Doc, double Score)> r = bm.Search("apple", 3);
        double avg = 8 / 3.0;
        double idf = Math.Log(1 + (3 - 1 + 0.5) / (1 + 0.5));
        double expected = idf * 2 * 2.2 / (2 + 1.2 * (1 - 0.75 + 0.75 * 3 / avg));
        Assert.That(r, Has.Count.EqualTo(1));
        Assert.That(r[0].Doc, Is.EqualTo(0));
        Assert.That(r[0].Score, Is.EqualTo(expected).Within(1e-12));
        Assert.That(bm.Search("banana cherry", 3).Select(x => x.Doc).First(), Is.EqualTo(1));
        Assert.That(bm.Search("zebra", 3), Is.Empty);
    }

    [Test]
    public void ReciprocalRankFusionFollowsTheFormula()
    {
        var fused = RankFusion.Reciprocal([new[] { 1, 2, 3 }, new[] { 3, 1 }], k: 60);
        Assert.That(fused.Select(x => x.Id), Is.EqualTo(new[] { 1, 3, 2 }));
        Assert.That(fused[0].Score, Is.EqualTo(1 / 61.0 + 1 / 62.0).Within(1e-12));
        Assert.That(fused[1].Score, Is.EqualTo(1 / 63.0 + 1 / 61.0).Within(1e-12));
    }

    [Test]
    public void HashedEmbedderIsDeterministicNormalizedAndLexical()
    {
        var e = new HashedEmbedder(256);
        float[] a = new float[256], b = new float[256], c = new float[256], d = new float[256];
        e.Embed("Saving the index to disk atomically", a);
        e.Embed("Saving the index to disk atomically", b);
        e.Embed("how is the index saved to disk", c);
        e.Embed("tokenizer vocabulary merges", d);
        Assert.That(a, Is.EqualTo(b));
        Assert.That(a.Sum(x => x * x), Is.EqualTo(1f).Within(1e-5f));
        float Cos(float[] x, float[] y) => x.Zip(y, (p, q) => p * q).Sum();
        Assert.That(Cos(a, c), Is.GreaterThan(Cos(a, d) + 0.2f));
        Assert.That(HashedEmbedder.FromName(e.Name)!.Dimension, Is.EqualTo(256));
        Assert.That(HashedEmbedder.FromName("bert-base"), Is.Null);
        Assert.Throws<ArgumentException>(() => e.Embed("x", new float[10]));
    }
}
