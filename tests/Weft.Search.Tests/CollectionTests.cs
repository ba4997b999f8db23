using Weft.Search.Collections;
using Weft.Search.Text;

namespace Weft.Search.Tests;

public sealed class CollectionTests
{
    // A small documentation set written for this test; each question below is answered by exactly one section.
    private const string Guide = """
        # Weft guide

        Weft runs language models locally.

        ## Installing

        Download the release archive, unpack it and put the weft binary on your PATH. On Debian install liblz4-1 first.

        ## Vector search

        The HNSW index stores vectors in a graph. Choose M and efConstruction when you build it; raise ef at query
        time for better recall. Filters restrict results to allowed labels.

        ## Saving indexes

        An index is saved to one file atomically: it is written to a temporary file, flushed to disk and renamed,
        so a crash during the save keeps the previous file. Sections are compressed with LZ4.

        ## Tokenizers

        Byte-pair encoding vocabularies load from GGUF, tokenizer.json and tiktoken files. Merges are applied by rank.
        """;

    private const string Faq = """
        # FAQ

        ## Why is my GPU not used?

        The Vulkan backend needs a driver with compute support. Set WEFT_DISABLE_VULKAN=1 to force the CPU backend.

        ## How do I report a bug?

        Open an issue with the command line, the full error message and the model file name.
        """;

    private static readonly (string Question, string Heading)[] s_questions =
    [
        ("how do I install weft on Debian", "Installing"),
        ("what happens if the process crashes while saving the index file", "Saving indexes"),
        ("improve recall of the HNSW vector search with ef", "Vector search"),
        ("load a byte-pair encoding vocabulary from tiktoken", "Tokenizers"),
        ("GPU not used, Vulkan driver", "Why is my GPU not used?"),
        ("report a bug", "How do I report a bug?"),
    ];

    private static string Heading(CollectionHit h) => h.Chunk.Headings.Count > 0 ? h.Chunk.Headings[^1] : "";

    [TestCase(SearchMode.Lexical)]
    [TestCase(SearchMode.Hybrid)]
    [TestCase(SearchMode.Vector)]
    public void QuestionsFindTheirSection(SearchMode mode)
    {
        string dir = Directory.CreateTempSubdirectory("weft-coll").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "guide.md"), Guide);
            File.WriteAllText(Path.Combine(dir, "faq.md"), Faq);
            var docs = DocumentLoader.Load([dir]).ToList();
            using (DocumentCollection built = DocumentCollection.Build(docs, new RecursiveChunker(WordTokenCounter.Instance, 80), new HashedEmbedder(256)))
            {
                built.Save(Path.Combine(dir, "idx"));
            }
            using DocumentCollection c = DocumentCollection.Load(Path.Combine(dir, "idx"));
            int top1 = 0, top3 = 0;
            foreach ((string q, string heading) in s_questions)
            {
                List<CollectionHit> hits = c.Search(q, 3, mode);
                top1 += hits.Count > 0 && Heading(hits[0]) == heading ? 1 : 0;
                top3 += hits.Any(h => Heading(h) == heading) ? 1 : 0;
            }
            // BM25 and hybrid must answer every question first; the hashed embedder alone is lexical and weaker.
            if (mode == SearchMode.Vector)
            {
                Assert.That(top3, Is.GreaterThanOrEqualTo(s_questions.Length - 1));
            }
            else
            {
                Assert.That(top1, Is.EqualTo(s_questions.Length));
            }
            List<CollectionHit> filtered = c.Search("saving index", 5, mode, ch => ch.Source.EndsWith("faq.md"));
            Assert.That(filtered.All(h => h.Chunk.Source.EndsWith("faq.md")), Is.True);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Test]
    public void LoadRejectsMissingOrForeignIndexes()
    {
        string dir = Directory.CreateTempSubdirectory("weft-coll").FullName;
        try
        {
            Assert.That(Assert.Throws<InvalidDataException>(() => DocumentCollection.Load(dir))!.Message, Does.Contain("collection.json"));
            using (DocumentCollection c = DocumentCollection.Build([SourceDocument.Plain("a", "alpha beta")], new TokenChunker(WordTokenCounter.Instance, 8, 2), new HashedEmbedder(64)))
            {
                c.Save(dir);
            }
            Assert.Throws<InvalidDataException>(() => DocumentCollection.Load(dir, new HashedEmbedder(128)));
            File.WriteAllText(Path.Combine(dir, "collection.json"), "{not json");
            Assert.Throws<InvalidDataException>(() => DocumentCollection.Load(dir));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [TestCase(SearchMode.Lexical)]
    [TestCase(SearchMode.Hybrid)]
    public void ProjectDocsAnswerTheirOwnSectionTitles(SearchMode mode)
    {
        // Over the repository's own README.md and docs/*.md: each section title, asked as a question, must bring back
        // its own section among the first three results. The expectations come from the documents themselves.
        string root = Weft.Tests.TestAssets.RepoRoot;
        var paths = new List<string>();
        if (File.Exists(Path.Combine(root, "README.md")))
        {
            paths.Add(Path.Combine(root, "README.md"));
        }
        if (Directory.Exists(Path.Combine(root, "docs")))
        {
            paths.AddRange(Directory.GetFiles(Path.Combine(root, "docs"), "*.md"));
        }
        if (paths.Count == 0)
        {
            Assert.Inconclusive("no README.md or docs/*.md in the repository");
        }
        var docs = DocumentLoader.Load(paths).ToList();
        using DocumentCollection c = DocumentCollection.Build(docs, new RecursiveChunker(WordTokenCounter.Instance, 200), new HashedEmbedder(256));
        var titles = docs.SelectMany(d => d.Sections).Where(sec => sec.Headings.Count >= 2)
            .Select(sec => sec.Headings[^1]).Where(t => TextAnalyzer.Terms(t).Count >= 2).Distinct().ToList();
        if (titles.Count == 0)
        {
            Assert.Inconclusive("the docs have no multi-word section titles");
        }
        int found = titles.Count(t => c.Search(t, 3, mode).Any(h => h.Chunk.Headings.Count > 0 && h.Chunk.Headings[^1] == t));
        Assert.That(found, Is.GreaterThanOrEqualTo((int)Math.Ceiling(0.8 * titles.Count)), $"{found} of {titles.Count} section titles found their section");
    }
}
