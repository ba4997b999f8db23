namespace Weft.Tests;

/// <summary>
/// Locates the shared test assets: <c>$WEFT_ASSETS</c>, else <c>../shared/assets</c> beside the repository root.
/// A missing asset fails the test under CI=true (saying what is missing) and is inconclusive elsewhere.
/// </summary>
public static class TestAssets
{
    private static readonly Lazy<string> s_root = new(FindRoot);

    /// <summary>The assets folder (may not exist).</summary>
    public static string Root => s_root.Value;

    /// <summary>The repository root (folder holding Runtime.sln): recorded at build time, else searched upwards.</summary>
    public static string RepoRoot
    {
        get
        {
            foreach (var meta in typeof(TestAssets).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false))
            {
                var m = (System.Reflection.AssemblyMetadataAttribute)meta;
                if (m.Key == "WeftRepoRoot" && m.Value is not null && File.Exists(Path.Combine(m.Value, "Runtime.sln")))
                {
                    return Path.GetFullPath(m.Value);
                }
            }
            foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            {
                string? dir = start;
                while (dir is not null && !File.Exists(Path.Combine(dir, "Runtime.sln")))
                {
                    dir = Path.GetDirectoryName(dir);
                }
                if (dir is not null)
                {
                    return dir;
                }
            }
            throw new InvalidOperationException("Runtime.sln not found above " + AppContext.BaseDirectory);
        }
    }

    private static string FindRoot()
    {
        string? env = Environment.GetEnvironmentVariable("WEFT_ASSETS");
        if (!string.IsNullOrEmpty(env))
        {
            return Path.GetFullPath(env);
        }
        return Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "assets"));
    }

    /// <summary>Full path of an asset, e.g. <c>models/stories260K.gguf</c>; fails or is inconclusive when missing.</summary>
    public static string Require(string relative)
    {
        string path = Path.Combine(Root, relative);
        if (!File.Exists(path))
        {
            string msg = $"Test asset missing: {path}. Set WEFT_ASSETS to the folder holding MANIFEST.md (default ../shared/assets).";
            if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Fail(msg);
            }
            Assert.Inconclusive(msg);
        }
        return path;
    }
}
