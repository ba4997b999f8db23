using Weft.Models.Embeddings;
using Weft.Models.Llama;
using Weft.Models.Tests.Embeddings;
using Weft.Search.Collections;
using Weft.Search.Text;

namespace Weft.Search.Tests;

/// <summary>
/// A collection embedded by a GGUF BERT (synthetic random weights, so this checks the plumbing, not retrieval quality):
/// a chunk's own text must find that chunk first by vector search, before and after a save and load.
/// </summary>
public sealed class GgufEmbedderTests
{
    private const string Doc = """
        # Notes

        ## Installing

        Download the release archive, unpack it and put the weft binary on your PATH.

        ## Vector search

        The HNSW index stores vectors in a graph; raise ef at query time for better recall.

        ## Saving

        An index is written to a temporary file, flushed to disk and renamed atomically.

        ## Tokenizers

        Byte-pair encoding vocabularies load from GGUF, tokenizer.json and tiktoken files.
        """;

    private string _dir = "";
    private string _model = "";

    [OneTimeSetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("weft-ggufemb").FullName;
        _model = Path.Combine(_dir, "tiny-bert.gguf");
        new SyntheticBert(seed: 77).Write(_model, pooling: 1);
    }

    [OneTimeTearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private GgufEmbedder Load() => GgufEmbedder.Load(_model, new EmbeddingOptions { Backend = BackendChoice.Cpu, Threads = 2 });

    [Test]
    public void AdapterMatchesModel()
    {
        using GgufEmbedder emb = Load();
        Assert.That(emb.Dimension, Is.EqualTo(SyntheticBert.E));
        Assert.That(emb.Name, Is.EqualTo("gguf-bert:tiny-bert.gguf:mean:l2"));
        string[] texts = ["vector search", "atomic renames on disk"];
        float[] batch = ((IEmbedder)emb).EmbedBatch(texts);
        for (int i = 0; i < texts.Length; i++)
        {
            float[] one = new float[emb.Dimension];
            emb.Embed(texts[i], one);
            Assert.That(one, Is.EqualTo(emb.Model.Embed(texts[i])));
            Assert.That(batch.AsSpan(i * emb.Dimension, emb.Dimension).ToArray(), Is.EqualTo(one));
        }
        Assert.Throws<ArgumentException>(() => emb.Embed("x", new float[emb.Dimension + 1]));
    }

    [Test]
    public void ChunkTextFindsItsChunk()
    {
        string idx = Path.Combine(_dir, "idx");
        var docs = new List<SourceDocument> { SourceDocument.Plain("notes.md", Doc) };
        List<TextChunk> chunks;
        using (GgufEmbedder emb = Load())
        {
            using DocumentCollection built = DocumentCollection.Build(docs, new RecursiveChunker(new TokenizerTokenCounter(emb.Model.Tokenizer), 24), emb);
            chunks = built.Chunks.ToList();
            Assert.That(chunks, Has.Count.GreaterThanOrEqualTo(4));
            foreach (TextChunk c in chunks)
            {
                Assert.That(built.Search(c.Text, 1, SearchMode.Vector)[0].Chunk, Is.EqualTo(c), c.Text);
            }
            built.Save(idx);
        }
        Assert.Throws<InvalidDataException>(() => DocumentCollection.Load(idx), "a GGUF-built index needs its model to load");
        using GgufEmbedder again = Load();
        using DocumentCollection loaded = DocumentCollection.Load(idx, again);
        foreach (TextChunk c in chunks)
        {
            Assert.That(loaded.Search(c.Text, 1, SearchMode.Vector)[0].Chunk.Text, Is.EqualTo(c.Text));
        }
        using GgufEmbedder cls = GgufEmbedder.Load(_model, new EmbeddingOptions { Backend = BackendChoice.Cpu, Threads = 2, Pooling = PoolingType.Cls });
        Assert.Throws<InvalidDataException>(() => DocumentCollection.Load(idx, cls), "another pooling is another embedder");
    }
}
