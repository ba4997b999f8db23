namespace Weft.Build;

/// <summary>Paths and settings shared by the targets.</summary>
public sealed class BuildContext
{
    private BuildContext(string repoRoot, Options options)
    {
        RepoRoot = repoRoot;
        Configuration = options.Configuration;
        Artifacts = Path.Combine(repoRoot, "artifacts");
        string? sln = new[] { "Runtime.slnx", "Runtime.sln" }.Select(n => Path.Combine(repoRoot, n)).FirstOrDefault(File.Exists);
        Solution = sln ?? throw new BuildFailedException($"no Runtime.sln in {repoRoot}");
        string? host = Environment.ProcessPath;
        Dotnet = host is not null && Path.GetFileNameWithoutExtension(host) == "dotnet" ? host : "dotnet";
    }

    /// <summary>Started when the target started, for the closing timings.</summary>
    public System.Diagnostics.Stopwatch Clock { get; } = System.Diagnostics.Stopwatch.StartNew();

    /// <summary>The repository root (the folder holding Runtime.sln).</summary>
    public string RepoRoot { get; }

    /// <summary>The solution file.</summary>
    public string Solution { get; }

    /// <summary>Release or Debug.</summary>
    public string Configuration { get; }

    /// <summary>artifacts/ in the repository root.</summary>
    public string Artifacts { get; }

    /// <summary>artifacts/bin: the published CLI (<c>weft</c> apphost and its assemblies).</summary>
    public string BinDir => Path.Combine(Artifacts, "bin");

    /// <summary>artifacts/test-results: one TRX file per test project.</summary>
    public string TestResultsDir => Path.Combine(Artifacts, "test-results");

    /// <summary>artifacts/bench: benchmark outputs.</summary>
    public string BenchDir => Path.Combine(Artifacts, "bench");

    /// <summary>The published CLI executable.</summary>
    public string Weft => Path.Combine(BinDir, OperatingSystem.IsWindows() ? "weft.exe" : "weft");

    /// <summary>The dotnet host running this program, or <c>dotnet</c> from PATH.</summary>
    public string Dotnet { get; }

    /// <summary>CI=true in the environment.</summary>
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The test assets folder: $WEFT_ASSETS, else ../shared/assets beside the repository root.</summary>
    public string Assets
    {
        get
        {
            string? env = Environment.GetEnvironmentVariable("WEFT_ASSETS");
            return string.IsNullOrEmpty(env)
                ? Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "assets"))
                : Path.GetFullPath(env);
        }
    }

    /// <summary>
    /// Environment for dotnet child processes. MSBuild nodes are never reused, and under CI the compiler
    /// server is off too, so that no build server outlives the run (a lingering server can hold CI's output pipe open).
    /// </summary>
    public Dictionary<string, string?> DotnetEnvironment() => new()
    {
        ["MSBUILDDISABLENODEREUSE"] = "1",
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        ["DOTNET_NOLOGO"] = "1",
        ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
    };

    /// <summary>MSBuild arguments added to every build/publish.</summary>
    public IEnumerable<string> MsBuildArgs()
    {
        yield return "-nologo";
        yield return "-nodeReuse:false";
        if (IsCi)
        {
            yield return "-p:UseSharedCompilation=false";
        }
    }

    /// <summary>Finds the repository root from the current directory (build.sh starts us there) or from this program's folder.</summary>
    public static BuildContext Create(Options options)
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (string? dir = Path.GetFullPath(start); dir is not null; dir = Path.GetDirectoryName(dir))
            {
                if (File.Exists(Path.Combine(dir, "Runtime.sln")) || File.Exists(Path.Combine(dir, "Runtime.slnx")))
                {
                    return new BuildContext(dir, options);
                }
            }
        }
        throw new BuildFailedException($"cannot find the repository root (a folder with Runtime.sln) above {Directory.GetCurrentDirectory()}");
    }

    /// <summary>A path relative to the repository root, for messages.</summary>
    public string Rel(string path) => Path.GetRelativePath(RepoRoot, path);
}
