using System.Text.Json;
using Weft.Search.Hnsw;
using Weft.Search.Text;
using Weft.Search.Vectors;

namespace Weft.Search.Collections;

/// <summary>
/// A searchable collection of document chunks: a BM25 index and an HNSW index (cosine) over the chunk embeddings,
/// queried lexically, by vector, or both fused by reciprocal rank fusion.
/// </summary>
/// <remarks>
/// Saved as a folder: <c>collection.json</c> (format version, embedder name, chunks with source, offsets, headings and
/// metadata) and <c>vectors.hnsw</c>. The BM25 index is rebuilt from the chunks on load (it takes milliseconds).
/// <code>
/// var docs = DocumentLoader.Load(["README.md", "docs"]);
/// var collection = DocumentCollection.Build(docs, new RecursiveChunker(WordTokenCounter.Instance, 200), new HashedEmbedder());
/// collection.Save("docs.index");
/// foreach (CollectionHit hit in collection.Search("how do I save an index", 5, SearchMode.Hybrid)) { ... }
/// </code>
/// </remarks>
public sealed class DocumentCollection : IDisposable
{
    private const int FormatVersion = 1;
    private readonly List<TextChunk> _chunks;
    private readonly Bm25Index _bm25 = new();
    private readonly HnswIndex _vectors;

    private DocumentCollection(List<TextChunk> chunks, IEmbedder embedder, HnswIndex vectors)
    {
        _chunks = chunks;
        Embedder = embedder;
        _vectors = vectors;
        foreach (TextChunk c in chunks)
        {
            _bm25.Add(c.Text);
        }
    }

    /// <summary>The embedder of queries and chunks.</summary>
    public IEmbedder Embedder { get; }
    /// <summary>The chunks, by id.</summary>
    public IReadOnlyList<TextChunk> Chunks => _chunks;
    /// <summary>The vector index (labels are chunk ids).</summary>
    public HnswIndex Vectors => _vectors;

    /// <summary>Chunks, embeds and indexes <paramref name="documents"/>.</summary>
    public static DocumentCollection Build(IEnumerable<SourceDocument> documents, IChunker chunker, IEmbedder embedder, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentNullException.ThrowIfNull(chunker);
        ArgumentNullException.ThrowIfNull(embedder);
        var chunks = new List<TextChunk>();
        foreach (SourceDocument d in documents)
        {
            foreach (TextChunk c in chunker.Chunk(d))
            {
                chunks.Add(c with { Id = chunks.Count });
            }
        }
        var index = new HnswIndex(new HnswOptions { Dimension = embedder.Dimension, Metric = DistanceMetric.Cosine, Capacity = Math.Max(16, chunks.Count), Ef = 64 });
        if (chunks.Count > 0)
        {
            float[] vectors = embedder.EmbedBatch(chunks.Select(c => c.Text).ToList());
            index.AddRange(vectors, chunks.Select(c => (long)c.Id).ToArray(), threads);
        }
        return new DocumentCollection(chunks, embedder, index);
    }

    /// <summary>The best <paramref name="k"/> chunks for <paramref name="query"/>.</summary>
    /// <param name="query">Query text.</param>
    /// <param name="k">Number of results.</param>
    /// <param name="mode">Lexical, vector or hybrid.</param>
    /// <param name="filter">Optional chunk filter (metadata, source...).</param>
    public List<CollectionHit> Search(string query, int k, SearchMode mode = SearchMode.Hybrid, Func<TextChunk, bool>? filter = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        int depth = mode == SearchMode.Hybrid ? Math.Max(k * 4, 40) : k;
        List<(int Doc, double Score)> lexical = mode == SearchMode.Vector ? [] :
            _bm25.Search(query, depth, filter is null ? null : d => filter(_chunks[d]));
        List<(int Doc, double Score)> vector = [];
        if (mode != SearchMode.Lexical && _chunks.Count > 0)
        {
            float[] q = new float[Embedder.Dimension];
            Embedder.Embed(query, q);
            SearchHit[] hits = filter is null
                ? _vectors.Search(q, depth, Math.Max(depth, 64))
                : _vectors.Search(q, depth, Math.Max(depth, 64), l => filter(_chunks[(int)l]));
            vector = hits.Select(h => ((int)h.Label, 1.0 - h.Distance)).ToList();
        }
        var lexRank = lexical.Select((x, i) => (x.Doc, i)).ToDictionary(x => x.Doc, x => x.i + 1);
        var vecRank = vector.Select((x, i) => (x.Doc, i)).ToDictionary(x => x.Doc, x => x.i + 1);
        IEnumerable<(int Doc, double Score)> ranked = mode switch
        {
            SearchMode.Lexical => lexical,
            SearchMode.Vector => vector,
            _ => RankFusion.Reciprocal([lexical.Select(x => x.Doc).ToList(), vector.Select(x => x.Doc).ToList()]),
        };
        return ranked.Take(k)
            .Select(x => new CollectionHit(_chunks[x.Doc], x.Score,
                lexRank.TryGetValue(x.Doc, out int lr) ? lr : null, vecRank.TryGetValue(x.Doc, out int vr) ? vr : null))
            .ToList();
    }

    /// <summary>Saves the collection into the folder <paramref name="directory"/> (created if needed).</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        _vectors.Save(Path.Combine(directory, "vectors.hnsw"));
        var model = new SavedCollection(FormatVersion, Embedder.Name, Embedder.Dimension, _chunks.Select(c =>
            new SavedChunk(c.Source, c.Start, c.End, c.Headings.ToArray(), c.Text, c.Metadata.ToDictionary())).ToList());
        string path = Path.Combine(directory, "collection.json");
        string tmp = path + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(model));
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Loads a collection saved by <see cref="Save"/>.</summary>
    /// <param name="directory">The collection folder.</param>
    /// <param name="embedder">Query embedder; null recreates a built-in one from the saved name.</param>
    /// <exception cref="InvalidDataException">Missing or malformed files, or an embedder that differs from the one used to build.</exception>
    public static DocumentCollection Load(string directory, IEmbedder? embedder = null)
    {
        string path = Path.Combine(directory, "collection.json");
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"{directory} is not a Weft document index: {path} is missing");
        }
        SavedCollection? model;
        try
        {
            model = JsonSerializer.Deserialize<SavedCollection>(File.ReadAllText(path));
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: malformed collection file: {ex.Message}", ex);
        }
        if (model is null || model.Version != FormatVersion || model.Chunks is null || model.Embedder is null)
        {
            throw new InvalidDataException($"{path}: unsupported or incomplete collection file (version {model?.Version}, this build reads {FormatVersion})");
        }
        embedder ??= HashedEmbedder.FromName(model.Embedder)
            ?? throw new InvalidDataException($"{path}: built with embedder '{model.Embedder}', which is not built in; pass that embedder to load it");
        if (embedder.Name != model.Embedder || embedder.Dimension != model.Dimension)
        {
            throw new InvalidDataException($"{path}: built with embedder '{model.Embedder}' ({model.Dimension} dims), not '{embedder.Name}' ({embedder.Dimension})");
        }
        var chunks = model.Chunks.Select((c, i) => new TextChunk(i, c.Source, c.Start, c.End, c.Headings, c.Text, c.Metadata)).ToList();
        HnswIndex vectors = HnswIndex.Load(Path.Combine(directory, "vectors.hnsw"));
        if (vectors.Dimension != embedder.Dimension || vectors.Count != chunks.Count)
        {
            vectors.Dispose();
            throw new InvalidDataException($"{directory}: vectors.hnsw holds {vectors.Count} vectors of dimension {vectors.Dimension}, collection.json {chunks.Count} chunks for dimension {embedder.Dimension}");
        }
        return new DocumentCollection(chunks, embedder, vectors);
    }

    /// <inheritdoc/>
    public void Dispose() => _vectors.Dispose();

    private sealed record SavedCollection(int Version, string Embedder, int Dimension, List<SavedChunk> Chunks);

    private sealed record SavedChunk(string Source, int Start, int End, string[] Headings, string Text, Dictionary<string, string> Metadata);
}
