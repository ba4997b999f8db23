using System.Text.Json;
using Weft.Search.Collections;
using Weft.Search.Text;

namespace Weft.Cli.Commands;

/// <summary><c>weft index search</c>: query an index built by <c>weft index build</c>.</summary>
[Verb("index search", "Search a document index (BM25 by default, --hybrid or --vector)",
    Usage = """
    weft index search INDEX --query TEXT [-k K] [--hybrid | --vector] [--json] [--embed-model MODEL]

    BM25 ranks by shared terms; --vector by the index's embedder; --hybrid fuses both by reciprocal rank fusion.
    An index built with --embed-model embeds queries with the model saved in INDEX/embed-model.json; --embed-model
    gives its path when the file has moved (it must be the same model).
    """)]
public sealed class IndexSearchCommand : ICommand
{
    /// <inheritdoc/>
    public Task<int> RunAsync(CliArgs args, CancellationToken cancellationToken)
    {
        string query = args.Required("--query", "-q");
        int k = args.Int(5, 1, 10000, "-k", "--k");
        bool hybrid = args.Flag("--hybrid");
        bool vector = args.Flag("--vector");
        bool json = args.Flag("--json");
        string? embedModel = args.Option("--embed-model");
        List<string> pos = args.Positionals();
        args.EnsureAllUsed();
        if (pos.Count != 1)
        {
            throw new CliUsageException("give exactly one INDEX folder");
        }
        if (hybrid && vector)
        {
            throw new CliUsageException("--hybrid and --vector exclude each other");
        }
        SearchMode mode = hybrid ? SearchMode.Hybrid : vector ? SearchMode.Vector : SearchMode.Lexical;
        using GgufEmbedder? model = EmbedModelFile.OpenFor(pos[0], embedModel);
        using DocumentCollection collection = DocumentCollection.Load(pos[0], model);
        List<CollectionHit> hits = collection.Search(query, k, mode);
        if (json)
        {
            var rows = hits.Select((h, i) => new
            {
                rank = i + 1,
                score = h.Score,
                source = h.Chunk.Source,
                start = h.Chunk.Start,
                end = h.Chunk.End,
                headings = h.Chunk.Headings,
                lexical_rank = h.LexicalRank,
                vector_rank = h.VectorRank,
                text = h.Chunk.Text,
            });
            Console.WriteLine(JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
            return Task.FromResult(0);
        }
        if (hits.Count == 0)
        {
            Console.WriteLine("no results");
        }
        for (int i = 0; i < hits.Count; i++)
        {
            CollectionHit h = hits[i];
            string heading = h.Chunk.Headings.Count > 0 ? " > " + string.Join(" > ", h.Chunk.Headings) : "";
            Console.WriteLine($"{i + 1}. {h.Chunk.Source}{heading}  [{h.Chunk.Start}..{h.Chunk.End})  score {h.Score:G4}");
            string text = h.Chunk.Text.ReplaceLineEndings(" ");
            Console.WriteLine("   " + (text.Length > 240 ? text[..240] + "..." : text));
        }
        return Task.FromResult(0);
    }
}
