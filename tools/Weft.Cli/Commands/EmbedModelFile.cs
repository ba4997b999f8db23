using System.Text.Json;
using Weft.Models.Embeddings;
using Weft.Search.Text;

namespace Weft.Cli.Commands;

/// <summary>
/// <c>INDEX/embed-model.json</c>: which GGUF embedding model built an index (its full path and embedder name), so
/// that <c>weft index search</c> embeds queries with the same model.
/// </summary>
internal static class EmbedModelFile
{
    /// <summary>The file name inside an index folder.</summary>
    public const string FileName = "embed-model.json";

    private sealed record Saved(string Path, string Name, int Dimension);

    /// <summary>Loads a GGUF embedding model for the CLI.</summary>
    public static GgufEmbedder Open(string path) =>
        GgufEmbedder.Load(path, new EmbeddingOptions());

    /// <summary>Records <paramref name="model"/> in <paramref name="index"/>, or removes a stale record when there is none.</summary>
    public static void Save(string index, GgufEmbedder? model)
    {
        string file = Path.Combine(index, FileName);
        if (model is null)
        {
            File.Delete(file);
            return;
        }
        var saved = new Saved(Path.GetFullPath(model.Model.Path), model.Name, model.Dimension);
        File.WriteAllText(file, JsonSerializer.Serialize(saved, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>
    /// The embedder of <paramref name="index"/>: <paramref name="overridePath"/> when given, else the model recorded at
    /// build time; null for an index built with the built-in embedder.
    /// </summary>
    /// <exception cref="CliUsageException">The record is malformed or its model file is gone.</exception>
    public static GgufEmbedder? OpenFor(string index, string? overridePath)
    {
        if (overridePath is not null)
        {
            return Open(overridePath);
        }
        string file = Path.Combine(index, FileName);
        if (!File.Exists(file))
        {
            return null;
        }
        Saved? saved;
        try
        {
            saved = JsonSerializer.Deserialize<Saved>(File.ReadAllText(file));
        }
        catch (JsonException e)
        {
            throw new CliUsageException($"{file}: not a valid embedding-model record ({e.Message})");
        }
        if (saved is null || string.IsNullOrEmpty(saved.Path))
        {
            throw new CliUsageException($"{file}: the embedding-model record has no path");
        }
        if (!File.Exists(saved.Path))
        {
            throw new CliUsageException($"{index} was built with the embedding model {saved.Path}, which is not there any more: pass its new path with --embed-model");
        }
        return Open(saved.Path);
    }
}
