using Weft.Search.Collections;
using Weft.Search.Text;

namespace Weft.Flows.Nodes;

/// <summary>Embedding, chunking, ingestion, retrieval and reranking nodes over Weft.Search.</summary>
public static class SearchNodes
{
    private static ParamSpec EmbedderParam() => S.Str("embedder", "hashed-256", "Embedder: 'hashed-N' (built-in hashed bag of words) or a name registered with FlowServices.AddEmbedder.");

    internal static float[] Embed(NodeContext c, string text)
    {
        IEmbedder e = c.Services.GetEmbedder(c.Param("embedder"));
        var v = new float[e.Dimension];
        e.Embed(text, v);
        return v;
    }

    /// <summary>All nodes of this group.</summary>
    public static IEnumerable<IFlowNode> All()
    {
        yield return new DelegateNode(new NodeSchema
        {
            Name = "embed", DisplayName = "Embed", Category = "search", Description = "Embeds a text into a vector.",
            Inputs = [S.In("text", PortTypes.String)], Params = [EmbedderParam()], Outputs = [S.Out("vector", PortTypes.Vector)],
        }, c => S.O(("vector", Embed(c, c.GetString("text")))));

        yield return new DelegateNode(new NodeSchema
        {
            Name = "chunk", DisplayName = "Chunk text", Category = "search", Description = "Splits a text into overlapping chunks of about chunk_tokens words.",
            Inputs = [S.In("text", PortTypes.String)],
            Params = [S.Int("chunk_tokens", 128, 8, 1 << 16, "Chunk size in word tokens."), S.Int("overlap", 16, 0, 1 << 15, "Tokens shared by consecutive chunks.")],
            Outputs = [S.Out("chunks", PortTypes.List)],
        }, c =>
        {
            if (c.Int("overlap") >= c.Int("chunk_tokens"))
            {
                throw new FlowExecutionException(c.NodeId, $"overlap ({c.Int("overlap")}) must be smaller than chunk_tokens ({c.Int("chunk_tokens")})");
            }
            var chunker = new TokenChunker(WordTokenCounter.Instance, c.Int("chunk_tokens"), c.Int("overlap"));
            return S.O(("chunks", chunker.Chunk(SourceDocument.Plain("input", c.GetString("text"))).Select(ch => (object?)ch.Text).ToList()));
        });

        yield return new DelegateNode(new NodeSchema
        {
            Name = "ingest", DisplayName = "Ingest documents", Category = "search",
            Description = "Loads files (Markdown keeps its headings) and/or texts, chunks them and builds a hybrid (BM25 + HNSW) collection; built once per parameter set and shared.",
            Inputs = [S.Opt("texts", PortTypes.List, "Extra documents as texts.")],
            Params = [S.List("paths", "Files or folders to load (relative to the flow's folder)."),
                S.Enum("chunker", "recursive", "recursive follows headings and paragraphs; token cuts fixed windows.", "recursive", "token"),
                S.Int("chunk_tokens", 128, 8, 1 << 16, "Chunk size in word tokens."), S.Int("overlap", 16, 0, 1 << 15, "Overlap (token chunker)."),
                EmbedderParam(), S.Str("save_to", "", "Directory to save the collection to (optional).")],
            Outputs = [S.Out("collection", PortTypes.String, "Name of the collection for retrieve nodes."), S.Out("chunks", PortTypes.Number)],
        }, c =>
        {
            List<string> paths = c.StringList("paths").Select(p => FlowEnvironment.ResolvePath(p, c.BaseDirectory)).ToList();
            List<object?> texts = c.GetList("texts");
            string key = "ingest:" + FlowValue.Hash(new List<object?> { string.Join("|", paths.Select(Path.GetFullPath)), c.Param("chunker"), (double)c.Int("chunk_tokens"), (double)c.Int("overlap"), c.Param("embedder"), texts });
            DocumentCollection col = c.Services.GetOrBuildCollection(key, () =>
            {
                var docs = DocumentLoader.Load(paths).ToList();
                for (int i = 0; i < texts.Count; i++)
                {
                    docs.Add(SourceDocument.Plain($"text:{i}", FlowValue.ToText(texts[i])));
                }
                if (docs.Count == 0)
                {
                    throw new FlowExecutionException(c.NodeId, "nothing to ingest: set 'paths' or connect 'texts'");
                }
                IChunker chunker = c.Param("chunker") == "token"
                    ? new TokenChunker(WordTokenCounter.Instance, c.Int("chunk_tokens"), c.Int("overlap"))
                    : new RecursiveChunker(WordTokenCounter.Instance, c.Int("chunk_tokens"));
                return DocumentCollection.Build(docs, chunker, c.Services.GetEmbedder(c.Param("embedder")));
            });
            string saveTo = c.Param("save_to");
            if (saveTo.Length > 0)
            {
                col.Save(saveTo);
            }
            return S.O(("collection", key), ("chunks", (double)col.Chunks.Count));
        });

        yield return new DelegateNode(new NodeSchema
        {
            Name = "retrieve", DisplayName = "Retrieve", Category = "search",
            Description = "Searches a collection (vector, BM25 or hybrid with reciprocal rank fusion) and returns the top-k passages.",
            Inputs = [S.In("query", PortTypes.String), S.Opt("collection", PortTypes.String, "Collection name from an ingest node (else the 'index' parameter).")],
            Params = [S.Str("index", "", "Saved collection directory or registered collection name."),
                S.Enum("mode", "hybrid", "Which index answers.", "lexical", "vector", "hybrid"),
                S.Int("top_k", 3, 1, 1000, "Passages to return."),
                S.Str("filter", "", "Keep only chunks whose source path contains this text.")],
            Outputs = [S.Out("documents", PortTypes.List), S.Out("context", PortTypes.String, "Passages joined by blank lines."), S.Out("scores", PortTypes.List), S.Out("sources", PortTypes.List)],
        }, c =>
        {
            string name = c.Has("collection") ? c.GetString("collection") : FlowEnvironment.ResolvePath(c.Param("index"), c.BaseDirectory);
            if (name.Length == 0)
            {
                throw new FlowExecutionException(c.NodeId, "no collection: connect 'collection' or set the 'index' parameter");
            }
            DocumentCollection col = c.Services.GetCollection(name);
            SearchMode mode = c.Param("mode") switch { "lexical" => SearchMode.Lexical, "vector" => SearchMode.Vector, _ => SearchMode.Hybrid };
            string filter = c.Param("filter");
            List<CollectionHit> hits = col.Search(c.GetString("query"), c.Int("top_k"), mode, filter.Length == 0 ? null : ch => ch.Source.Contains(filter, StringComparison.Ordinal));
            return S.O(("documents", hits.Select(h => (object?)h.Chunk.Text).ToList()),
                ("context", string.Join("\n\n", hits.Select(h => h.Chunk.Text.Trim()))),
                ("scores", hits.Select(h => (object?)h.Score).ToList()),
                ("sources", hits.Select(h => (object?)h.Chunk.Source).ToList()));
        });

        yield return new DelegateNode(new NodeSchema
        {
            Name = "rerank", DisplayName = "Rerank", Category = "search",
            Description = "Orders documents by cosine similarity of their embeddings to the query's and keeps the top k.",
            Inputs = [S.In("query", PortTypes.String), S.In("documents", PortTypes.List)],
            Params = [EmbedderParam(), S.Int("top_k", 3, 1, 1000, "Documents to keep.")],
            Outputs = [S.Out("documents", PortTypes.List), S.Out("scores", PortTypes.List)],
        }, c =>
        {
            float[] q = Embed(c, c.GetString("query"));
            var ranked = c.GetList("documents").Select((d, i) => (Text: FlowValue.ToText(d), Index: i, Score: Evaluation.TextMetrics.Cosine(q, Embed(c, FlowValue.ToText(d)))))
                .OrderByDescending(x => x.Score).ThenBy(x => x.Index).Take(c.Int("top_k")).ToList();
            return S.O(("documents", ranked.Select(r => (object?)r.Text).ToList()), ("scores", ranked.Select(r => (object?)r.Score).ToList()));
        });
    }
}
