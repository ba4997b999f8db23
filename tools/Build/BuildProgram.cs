namespace Weft.Build;

/// <summary>A step failed; the message says which and how to fix it. Exit code 1.</summary>
public sealed class BuildFailedException(string message) : Exception(message);

/// <summary>Bad target or option. Exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Target dispatch and the help text.</summary>
public static class BuildProgram
{
    /// <summary>The targets, in the order the help lists them.</summary>
    private static readonly (string Name, string Summary, Func<BuildContext, Options, Task<int>> Run)[] s_targets =
    [
        ("build", "restore and build Runtime.sln, publish the CLI to artifacts/bin/weft", (c, o) => Targets.BuildAsync(c, o)),
        ("test", "build, then run every test project of Runtime.sln; prints 'N passed, N failed, N skipped'", (c, o) => Targets.TestAsync(c, o)),
        ("run", "build, then run the main job with artifacts/bin/weft", (c, o) => Targets.RunMainJobAsync(c, o)),
        ("bench", "build, then run the benchmarks; results go to artifacts/bench/", (c, o) => Targets.BenchAsync(c, o)),
        ("clean", "remove artifacts/", (c, o) => Targets.CleanAsync(c, o)),
        ("help", "print this text", (_, _) => { PrintHelp(); return Task.FromResult(0); }),
    ];

    /// <summary>Runs the target named by the first argument.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] is "help" or "-h" or "--help" or "/?")
        {
            PrintHelp();
            return args.Length == 0 ? 2 : 0;
        }
        string target = args[0];
        var entry = s_targets.FirstOrDefault(t => t.Name == target);
        if (entry.Name is null)
        {
            throw new UsageException($"unknown target '{target}'. Targets: {string.Join(", ", s_targets.Select(t => t.Name))}");
        }
        Options options = Options.Parse(target, args[1..]);
        if (options.Help)
        {
            PrintHelp();
            return 0;
        }
        var context = BuildContext.Create(options);
        int code = await entry.Run(context, options).ConfigureAwait(false);
        if (target != "test")
        {
            // test prints its timing itself, so that its summary stays the last line.
            Log.Info($"{target}: {(code == 0 ? "done" : $"FAILED (exit code {code})")} in {Log.Seconds(context.Clock.Elapsed)}");
        }
        return code;
    }

    private static void PrintHelp()
    {
        Console.WriteLine("Weft build program.");
        Console.WriteLine();
        Console.WriteLine("Usage: ./build.sh TARGET [options]        (Windows: .\\build.ps1 TARGET [options])");
        Console.WriteLine();
        Console.WriteLine("Targets:");
        foreach (var t in s_targets)
        {
            Console.WriteLine($"  {t.Name,-7} {t.Summary}");
        }
        Console.WriteLine();
        Console.WriteLine("Options:");
        Console.WriteLine("  -c, --configuration NAME   Release (default) or Debug");
        Console.WriteLine("  --no-build                 test/run/bench: use what the last build left");
        Console.WriteLine("  --no-prereqs               do not check or install system packages");
        Console.WriteLine("  test:  --filter EXPR       dotnet test filter, e.g. FullyQualifiedName~Gguf");
        Console.WriteLine("         --project NAME      only this test project (repeatable), e.g. Weft.Core.Tests");
        Console.WriteLine("         --parallel N        test projects run at once (default: 2, 1 on a single core)");
        Console.WriteLine("         --hang-timeout T    a single test running longer than T is killed and fails (default 5m)");
        Console.WriteLine("  run, bench: --threads N    CPU threads for the benchmarks (default 2)");
        Console.WriteLine();
        Console.WriteLine("Environment:");
        Console.WriteLine("  WEFT_ASSETS     test assets folder (default ../shared/assets beside the repository)");
        Console.WriteLine("  WEFT_ARTIFACTS  where compiler outputs go (default artifacts/build); artifacts/bin, test-results and bench stay in artifacts/");
        Console.WriteLine("  CI=true         a missing test asset fails instead of being inconclusive; no build servers are left running");
        Console.WriteLine();
        Console.WriteLine("System packages: on Linux, a missing one is installed with apt-get when running as root;");
        Console.WriteLine("otherwise the exact install command is printed. The list is in tools/Build/Prerequisites.cs.");
    }
}
