using System.Collections.Concurrent;
using Weft.Models.Llama;
using Weft.Search.Collections;
using Weft.Search.Text;

namespace Weft.Flows;

/// <summary>Options of one text generation.</summary>
public sealed record TextGenerationOptions
{
    /// <summary>Generation settings (sampling, stop strings, max tokens).</summary>
    public GenerationParams Generation { get; init; } = new();
}

/// <summary>Result of one text generation.</summary>
/// <param name="Text">Generated text.</param>
/// <param name="PromptTokens">Prompt tokens.</param>
/// <param name="CompletionTokens">Generated tokens.</param>
/// <param name="StopReason">Why generation stopped.</param>
public sealed record TextGenerationResult(string Text, int PromptTokens, int CompletionTokens, string StopReason);

/// <summary>Something that continues a prompt: a Weft model, or a host-provided generator (tests, remote APIs).</summary>
public interface ITextGenerator
{
    /// <summary>Name shown in traces.</summary>
    string Name { get; }

    /// <summary>Chat template of the model, or null (the chat node then uses its own).</summary>
    Weft.Models.Templates.ChatTemplate? ChatTemplate => null;

    /// <summary>Continues <paramref name="prompt"/>, calling <paramref name="onText"/> with each piece of text as it is produced.</summary>
    Task<TextGenerationResult> GenerateAsync(string prompt, TextGenerationOptions options, Action<string>? onText, CancellationToken cancellationToken);
}

/// <summary>
/// State shared by the nodes of every run of an executor: models (loaded once, contexts pooled), registered generators,
/// embedders, document collections and agent tools.
/// </summary>
public sealed class FlowServices : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<LlamaModel>> _models = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<ITextGenerator>> _generators = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IEmbedder> _embedders = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, Lazy<DocumentCollection>> _collections = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IAgentTool> _tools = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Node types, for nodes that run sub-flows (set by the first <see cref="FlowExecutor"/> built over these services).</summary>
    public NodeRegistry? Registry { get; set; }

    /// <summary>Context settings for model contexts (default: the model's context, one CPU thread each so lines run in parallel).</summary>
    public ContextParams ContextParams { get; set; } = new() { Threads = 1, Backend = BackendChoice.Cpu };

    /// <summary>Cost per token by model name (for traces); models not listed cost 0.</summary>
    public ConcurrentDictionary<string, double> CostPerToken { get; } = new(StringComparer.Ordinal);

    /// <summary>Number of model files loaded so far (a model is loaded once and shared).</summary>
    public int ModelLoads => _models.Values.Count(l => l.IsValueCreated);

    /// <summary>Services for an engine: the agent tools its modules registered (<see cref="FlowBuilderExtensions.AddAgentTool"/>) are added, and <see cref="Registry"/> holds its node types.</summary>
    public static FlowServices FromEngine(Weft.Core.Engine engine)
    {
        var s = new FlowServices { Registry = NodeRegistry.FromEngine(engine) };
        foreach (KeyValuePair<string, IAgentTool> kv in engine.Registry<IAgentTool>().Items)
        {
            s.AddTool(kv.Value);
        }
        return s;
    }

    /// <summary>Registers a generator under a name; LLM nodes whose <c>model</c> parameter is that name use it.</summary>
    public void AddGenerator(string name, ITextGenerator generator) => _generators[name] = new Lazy<ITextGenerator>(generator);

    /// <summary>Registers an embedder under a name (<c>hashed-N</c> names are built in).</summary>
    public void AddEmbedder(string name, IEmbedder embedder) => _embedders[name] = embedder;

    /// <summary>Registers a document collection under a name (retrieve nodes may name it instead of a directory).</summary>
    public void AddCollection(string name, DocumentCollection collection) => _collections[name] = new Lazy<DocumentCollection>(collection);

    /// <summary>Registers an agent tool.</summary>
    public void AddTool(IAgentTool tool) => _tools[tool.Name] = tool;

    /// <summary>Registered agent tools.</summary>
    public IReadOnlyCollection<IAgentTool> Tools => (IReadOnlyCollection<IAgentTool>)_tools.Values;

    /// <summary>A tool by name, or null.</summary>
    public IAgentTool? Tool(string name) => _tools.TryGetValue(name, out IAgentTool? t) ? t : null;

    /// <summary>The model at <paramref name="path"/>, loaded on first use and shared afterwards.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    public LlamaModel GetModel(string path)
    {
        string full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new FileNotFoundException($"Model file '{path}' does not exist (set WEFT_ASSETS or give a full path).", path);
        }
        Lazy<LlamaModel> lazy = _models.GetOrAdd(full, p => new Lazy<LlamaModel>(() => LlamaModel.Load(p), LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            return lazy.Value;
        }
        catch
        {
            _models.TryRemove(full, out _);
            throw;
        }
    }

    /// <summary>A registered generator by name, or a Weft model loaded from the path <paramref name="model"/>.</summary>
    public ITextGenerator GetGenerator(string model)
    {
        if (_generators.TryGetValue(model, out Lazy<ITextGenerator>? g))
        {
            return g.Value;
        }
        string full = Path.GetFullPath(model);
        return _generators.GetOrAdd(full, p => new Lazy<ITextGenerator>(() => new LlamaTextGenerator(GetModel(p), ContextParams))).Value;
    }

    /// <summary>An embedder by name: registered ones first, then the built-in <c>hashed-N</c> (N dimensions; <c>hashed</c> is 256).</summary>
    /// <exception cref="ArgumentException">Unknown name.</exception>
    public IEmbedder GetEmbedder(string name)
    {
        if (_embedders.TryGetValue(name, out IEmbedder? e))
        {
            return e;
        }
        if (name == "hashed")
        {
            return _embedders.GetOrAdd(name, _ => new HashedEmbedder(256));
        }
        if (name.StartsWith("hashed-", StringComparison.Ordinal) && int.TryParse(name.AsSpan(7), out int dim) && dim > 0)
        {
            return _embedders.GetOrAdd(name, _ => new HashedEmbedder(dim));
        }
        if (HashedEmbedder.FromName(name) is HashedEmbedder h)
        {
            return _embedders.GetOrAdd(name, h);
        }
        throw new ArgumentException($"Unknown embedder '{name}': use 'hashed', 'hashed-N' or register one with FlowServices.AddEmbedder.");
    }

    /// <summary>A registered collection, or one loaded from a saved collection directory (cached).</summary>
    /// <exception cref="DirectoryNotFoundException">Neither a registered name nor a directory.</exception>
    public DocumentCollection GetCollection(string nameOrDirectory)
    {
        if (_collections.TryGetValue(nameOrDirectory, out Lazy<DocumentCollection>? c))
        {
            return c.Value;
        }
        if (!Directory.Exists(nameOrDirectory))
        {
            throw new DirectoryNotFoundException($"'{nameOrDirectory}' is neither a registered collection nor a saved collection directory (build one with an ingest node or `weft index build`).");
        }
        string full = Path.GetFullPath(nameOrDirectory);
        Lazy<DocumentCollection> lazy = _collections.GetOrAdd(full, p => new Lazy<DocumentCollection>(() => DocumentCollection.Load(p)));
        return lazy.Value;
    }

    /// <summary>Builds (once per key) a collection with <paramref name="build"/> and registers it under <paramref name="key"/>.</summary>
    public DocumentCollection GetOrBuildCollection(string key, Func<DocumentCollection> build) =>
        _collections.GetOrAdd(key, _ => new Lazy<DocumentCollection>(build, LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    /// <summary>Disposes loaded models, pooled contexts and collections.</summary>
    public void Dispose()
    {
        foreach (Lazy<ITextGenerator> g in _generators.Values)
        {
            if (g.IsValueCreated && g.Value is IDisposable d)
            {
                d.Dispose();
            }
        }
        foreach (Lazy<DocumentCollection> c in _collections.Values)
        {
            if (c.IsValueCreated)
            {
                c.Value.Dispose();
            }
        }
        foreach (Lazy<LlamaModel> m in _models.Values)
        {
            if (m.IsValueCreated)
            {
                m.Value.Dispose();
            }
        }
    }
}

/// <summary>An <see cref="ITextGenerator"/> over a Weft model, with a pool of contexts so concurrent lines share the model.</summary>
public sealed class LlamaTextGenerator(LlamaModel model, ContextParams contextParams) : ITextGenerator, IDisposable
{
    private readonly ConcurrentBag<LlamaContext> _pool = new();

    /// <summary>The model.</summary>
    public LlamaModel Model { get; } = model;

    /// <inheritdoc/>
    public string Name => Path.GetFileName(Model.Path);

    /// <inheritdoc/>
    public Weft.Models.Templates.ChatTemplate? ChatTemplate => Model.ChatTemplate;

    /// <summary>Rents a context (cleared); return it with <see cref="Return"/>.</summary>
    public LlamaContext Rent()
    {
        if (_pool.TryTake(out LlamaContext? c))
        {
            c.Clear();
            return c;
        }
        return Model.CreateContext(contextParams);
    }

    /// <summary>Returns a rented context to the pool.</summary>
    public void Return(LlamaContext context) => _pool.Add(context);

    /// <inheritdoc/>
    public async Task<TextGenerationResult> GenerateAsync(string prompt, TextGenerationOptions options, Action<string>? onText, CancellationToken cancellationToken)
    {
        LlamaContext ctx = Rent();
        try
        {
            var gen = new Generator(ctx);
            var sb = new System.Text.StringBuilder();
            await foreach (GeneratedToken t in gen.GenerateAsync(prompt, options.Generation, cancellationToken).ConfigureAwait(false))
            {
                sb.Append(t.Text);
                onText?.Invoke(t.Text);
            }
            return new TextGenerationResult(sb.ToString(), gen.LastStats.PromptTokens, gen.LastStats.GeneratedTokens, gen.LastStats.StopReason);
        }
        finally
        {
            Return(ctx);
        }
    }

    /// <summary>Disposes pooled contexts.</summary>
    public void Dispose()
    {
        while (_pool.TryTake(out LlamaContext? c))
        {
            c.Dispose();
        }
    }
}
