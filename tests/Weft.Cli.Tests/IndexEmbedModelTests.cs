using System.Text.Json;
using Weft.Models.Embeddings;
using Weft.Models.Llama;
using Weft.Models.Tests.Embeddings;
using Weft.Search.Collections;
using Weft.Search.Text;

namespace Weft.Cli.Tests;

/// <summary>
/// <c>weft index build/search --embed-model</c> with a synthetic BERT (random weights: this checks the plumbing, not
/// retrieval quality): each chunk's own text finds that chunk first by vector search, and the index remembers its model.
/// </summary>
public class IndexEmbedModelTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), $"weft-index-embed-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(_dir, "docs"));
        File.WriteAllText(Path.Combine(_dir, "docs", "guide.md"), """
            # Guide

            ## Installing

            Download the release archive and put the weft binary on your PATH.

            ## Vector search

            The HNSW index stores vectors in a graph; raise ef for better recall.
            """);
        File.WriteAllText(Path.Combine(_dir, "docs", "faq.md"), """
            # FAQ

            ## GPU

            The Vulkan backend needs a driver with compute support.

            ## Bugs

            Open an issue with the command line and the full error message.
            """);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task BuildAndSearchWithAGgufEmbedder()
    {
        string model = Path.Combine(_dir, "tiny-bert.gguf");
        new SyntheticBert(seed: 5).Write(model, pooling: 2);
        string idx = Path.Combine(_dir, "idx");
        var (code, output, err) = await CliRunner.Run("index", "build", "--docs", Path.Combine(_dir, "docs"), "--out", idx,
            "--embed-model", model, "--chunk-tokens", "24", "--overlap", "4");
        Assert.That(code, Is.EqualTo(0), err);
        Assert.That(output, Does.Contain("gguf-bert:tiny-bert.gguf:cls:l2"));
        Assert.That(File.Exists(Path.Combine(idx, "embed-model.json")));

        List<string> chunks;
        using (GgufEmbedder emb = GgufEmbedder.Load(model, new EmbeddingOptions { Backend = BackendChoice.Cpu }))
        using (DocumentCollection c = DocumentCollection.Load(idx, emb))
        {
            chunks = c.Chunks.Select(ch => ch.Text).ToList();
        }
        Assert.That(chunks, Has.Count.GreaterThanOrEqualTo(4));
        foreach (string text in chunks)
        {
            var r = await CliRunner.Run("index", "search", idx, "--query", text, "--vector", "-k", "1", "--json");
            Assert.That(r.Code, Is.EqualTo(0), r.Err);
            JsonElement top = JsonDocument.Parse(r.Out).RootElement[0];
            Assert.That(top.GetProperty("text").GetString(), Is.EqualTo(text));
        }

        // The model moved: the saved path no longer works, --embed-model gives the new one.
        string moved = Path.Combine(_dir, "models", "tiny-bert.gguf");
        Directory.CreateDirectory(Path.GetDirectoryName(moved)!);
        File.Move(model, moved);
        var stale = await CliRunner.Run("index", "search", idx, "--query", chunks[0], "--vector");
        Assert.That(stale.Code, Is.EqualTo(2));
        Assert.That(stale.Err, Does.Contain(model).And.Contain("--embed-model"));
        var again = await CliRunner.Run("index", "search", idx, "--query", chunks[1], "--vector", "-k", "1", "--json", "--embed-model", moved);
        Assert.That(again.Code, Is.EqualTo(0), again.Err);
        Assert.That(JsonDocument.Parse(again.Out).RootElement[0].GetProperty("text").GetString(), Is.EqualTo(chunks[1]));

        // A different model (other pooling) is refused by the index.
        string other = Path.Combine(_dir, "other", "tiny-bert.gguf");
        Directory.CreateDirectory(Path.GetDirectoryName(other)!);
        new SyntheticBert(seed: 5).Write(other, pooling: 1);
        var wrong = await CliRunner.Run("index", "search", idx, "--query", chunks[0], "--vector", "--embed-model", other);
        Assert.That(wrong.Code, Is.Not.EqualTo(0));
        Assert.That(wrong.Err, Does.Contain("gguf-bert:tiny-bert.gguf:cls:l2").And.Contain("gguf-bert:tiny-bert.gguf:mean:l2"));
    }

    [Test]
    public async Task ChunksLongerThanTheModelAreRefused()
    {
        string model = Path.Combine(_dir, "tiny-bert.gguf");
        new SyntheticBert(seed: 5).Write(model);
        var (code, _, err) = await CliRunner.Run("index", "build", "--docs", Path.Combine(_dir, "docs"), "--out", Path.Combine(_dir, "idx"),
            "--embed-model", model, "--chunk-tokens", "100");
        Assert.That(code, Is.EqualTo(2));
        Assert.That(err, Does.Contain("--chunk-tokens 100").And.Contain($"{SyntheticBert.Ctx - 2}"));
    }
}
