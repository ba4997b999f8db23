using System.Reflection;

namespace Weft.Cli;

/// <summary>Marks a class as the handler of a verb path such as <c>inspect</c> or <c>bench ops</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class VerbAttribute(string path, string summary) : Attribute
{
    /// <summary>Words of the verb, space separated (<c>index build</c>).</summary>
    public string Path { get; } = path;
    /// <summary>One line for <c>weft --help</c>.</summary>
    public string Summary { get; } = summary;
    /// <summary>Usage text printed by <c>weft VERB --help</c> and on usage errors.</summary>
    public string Usage { get; init; } = "";
}

/// <summary>A CLI verb. Classes with <see cref="VerbAttribute"/> and a parameterless constructor are found by reflection.</summary>
public interface ICommand
{
    /// <summary>Runs the verb; returns the process exit code.</summary>
    Task<int> RunAsync(CliArgs args, CancellationToken cancellationToken);
}

/// <summary>A usage error: bad or missing flags. Exit code 2.</summary>
public sealed class CliUsageException(string message) : Exception(message);

/// <summary>Entry point: verb dispatch, help, and turning exceptions into one clear line and a non-zero exit.</summary>
public static class CliApp
{
    private sealed record Verb(string[] Words, VerbAttribute Info, Type Type);

    private static List<Verb> Discover() =>
        typeof(CliApp).Assembly.GetTypes()
            .Select(t => (Type: t, Info: t.GetCustomAttribute<VerbAttribute>()))
            .Where(x => x.Info is not null && typeof(ICommand).IsAssignableFrom(x.Type))
            .Select(x => new Verb(x.Info!.Path.Split(' '), x.Info!, x.Type))
            .OrderBy(v => v.Info.Path, StringComparer.Ordinal)
            .ToList();

    /// <summary>Runs the CLI with <paramref name="args"/>.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        List<Verb> verbs = Discover();
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            PrintHelp(verbs);
            return args.Length == 0 ? 2 : 0;
        }
        if (args[0] is "--version")
        {
            Console.WriteLine(typeof(CliApp).Assembly.GetName().Version);
            return 0;
        }

        // Longest verb path that prefixes the arguments.
        Verb? verb = verbs
            .Where(v => v.Words.Length <= args.Length && v.Words.Select((w, i) => w == args[i]).All(b => b))
            .OrderByDescending(v => v.Words.Length)
            .FirstOrDefault();
        if (verb is null)
        {
            string[] groups = verbs.Where(v => v.Words.Length > 1 && v.Words[0] == args[0]).Select(v => v.Info.Path).ToArray();
            Console.Error.WriteLine(groups.Length > 0
                ? $"weft: '{args[0]}' needs a sub-command: {string.Join(", ", groups)}"
                : $"weft: unknown command '{args[0]}'. Run 'weft --help' for the list.");
            return 2;
        }

        string[] rest = args[verb.Words.Length..];
        if (rest.Contains("--help") || rest.Contains("-h"))
        {
            Console.WriteLine($"weft {verb.Info.Path}: {verb.Info.Summary}");
            if (verb.Info.Usage.Length > 0)
            {
                Console.WriteLine();
                Console.WriteLine(verb.Info.Usage);
            }
            return 0;
        }

        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cts.Cancel(); };
        Console.CancelKeyPress += onCancel;
        try
        {
            var command = (ICommand)Activator.CreateInstance(verb.Type)!;
            return await command.RunAsync(new CliArgs(rest), cts.Token).ConfigureAwait(false);
        }
        catch (CliUsageException ex)
        {
            Console.Error.WriteLine($"weft {verb.Info.Path}: {ex.Message}");
            if (verb.Info.Usage.Length > 0)
            {
                Console.Error.WriteLine();
                Console.Error.WriteLine(verb.Info.Usage);
            }
            return 2;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"weft {verb.Info.Path}: cancelled");
            return 130;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"weft {verb.Info.Path}: error: {ex.Message}");
            if (Environment.GetEnvironmentVariable("WEFT_DEBUG") == "1")
            {
                Console.Error.WriteLine(ex);
            }
            return 1;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static void PrintHelp(List<Verb> verbs)
    {
        Console.WriteLine("weft: a modular runtime for local LLM work (GGUF inference, tokenizers, vector search, flows).");
        Console.WriteLine();
        Console.WriteLine("Usage: weft COMMAND [options]      weft COMMAND --help for its options");
        Console.WriteLine();
        int width = verbs.Count == 0 ? 0 : verbs.Max(v => v.Info.Path.Length);
        foreach (Verb v in verbs)
        {
            Console.WriteLine($"  {v.Info.Path.PadRight(width)}  {v.Info.Summary}");
        }
    }
}
