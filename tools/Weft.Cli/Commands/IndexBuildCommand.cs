using System.Diagnostics;
using Weft.Search.Collections;
using Weft.Search.Text;
using Weft.Tokenizers;

namespace Weft.Cli.Commands;

/// <summary><c>weft index build</c>: chunk, embed and index documents into a searchable folder.</summary>
[Verb("index build", "Build a BM25 + vector index over .txt/.md/.jsonl documents",
    Usage = """
    weft index build --docs PATH... --out INDEX [--chunk-tokens N] [--overlap M] [--chunker recursive|tokens]
                     [--tokenizer FILE] [--embed-model MODEL] [--dim D] [--threads T]

    PATH: files or folders (searched for .txt, .md, .jsonl); --docs may repeat or take several paths.
    Chunking: recursive (headings, paragraphs, sentences; default) or tokens (fixed size with --overlap).
    Token counts come from --tokenizer (a GGUF/tokenizer.json/tiktoken file) or, without it, count words and
    punctuation marks. Embeddings: the built-in hashed bag-of-words embedder (--dim, default 256), which matches
    shared words and word fragments, not meaning; or a GGUF embedding model (--embed-model, architecture bert:
    BERT, MiniLM, BGE…), whose tokenizer then also counts chunk tokens unless --tokenizer is given. The model's path
    is saved in INDEX/embed-model.json so that `weft index search` embeds queries with the same model.
    """)]
public sealed class IndexBuildCommand : ICommand
{
    /// <inheritdoc/>
    public Task<int> RunAsync(CliArgs args, CancellationToken cancellationToken)
    {
        List<string> docs = args.Options("--docs");
        string output = args.Required("--out", "-o");
        string? embedModel = args.Option("--embed-model");
        int chunkTokens = args.Int(256, 8, 1_000_000, "--chunk-tokens");
        int overlap = args.Int(32, 0, 1_000_000, "--overlap");
        string chunkerName = args.Option("--chunker") ?? "recursive";
        string? tokenizerPath = args.Option("--tokenizer");
        int dim = args.Int(256, 8, 65536, "--dim");
        int threads = args.Int(1, 1, 256, "--threads");
        docs.AddRange(args.Positionals());
        args.EnsureAllUsed();

        if (docs.Count == 0)
        {
            throw new CliUsageException("give at least one document path with --docs");
        }
        if (overlap >= chunkTokens)
        {
            throw new CliUsageException($"--overlap ({overlap}) must be smaller than --chunk-tokens ({chunkTokens})");
        }
        using GgufEmbedder? model = embedModel is null ? null : EmbedModelFile.Open(embedModel);
        if (model is not null && chunkTokens + 2 > model.Model.MaxTokens)
        {
            throw new CliUsageException($"--chunk-tokens {chunkTokens} does not fit {Path.GetFileName(embedModel)}, which takes {model.Model.MaxTokens} tokens with [CLS] and [SEP]: use at most {model.Model.MaxTokens - 2}");
        }
        ITokenCounter counter = tokenizerPath is not null ? new TokenizerTokenCounter(TokenizerLoader.Load(tokenizerPath))
            : model is not null ? new TokenizerTokenCounter(model.Model.Tokenizer)
            : WordTokenCounter.Instance;
        IChunker chunker = chunkerName switch
        {
            "recursive" => new RecursiveChunker(counter, chunkTokens),
            "tokens" => new TokenChunker(counter, chunkTokens, overlap),
            _ => throw new CliUsageException($"--chunker must be recursive or tokens, not '{chunkerName}'"),
        };
        var sw = Stopwatch.StartNew();
        List<SourceDocument> documents = DocumentLoader.Load(docs).ToList();
        IEmbedder embedder = model is not null ? model : new HashedEmbedder(dim);
        using DocumentCollection collection = DocumentCollection.Build(documents, chunker, embedder, threads);
        collection.Save(output);
        EmbedModelFile.Save(output, model);
        Console.WriteLine($"indexed {documents.Count} document(s) as {collection.Chunks.Count} chunk(s) into {output} in {sw.Elapsed.TotalSeconds:F2} s (BM25 + {collection.Embedder.Name})");
        return Task.FromResult(0);
    }
}
