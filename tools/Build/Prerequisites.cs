using System.Runtime.InteropServices;

namespace Weft.Build;

/// <summary>Which targets need a prerequisite.</summary>
[Flags]
public enum Need
{
    /// <summary>Needed by nothing yet (listed for documentation).</summary>
    None = 0,
    /// <summary>The build target (and so every target that builds).</summary>
    Build = 1,
    /// <summary>The test target.</summary>
    Test = 2,
    /// <summary>The run target.</summary>
    Run = 4,
    /// <summary>The bench target.</summary>
    Bench = 8,
}

/// <summary>One system package the repository needs on Linux.</summary>
/// <param name="Name">What it is, for messages.</param>
/// <param name="Probe">How its presence is detected (for messages).</param>
/// <param name="IsPresent">The check.</param>
/// <param name="AptPackage">The Debian/Ubuntu package that provides it.</param>
/// <param name="NeededBy">The targets that fail without it.</param>
public sealed record Prerequisite(string Name, string Probe, Func<bool> IsPresent, string AptPackage, Need NeededBy);

/// <summary>
/// System packages: the table, the checks, and the apt-get install that runs when something is missing and this
/// program runs as root on Debian/Ubuntu. Later work adds rows here (python3-hnswlib for the HNSW comparison bench,
/// chromium for the editor tests).
/// </summary>
public static class Prerequisites
{
    /// <summary>The table. Checks run on Linux only; other systems get a note.</summary>
    public static readonly Prerequisite[] All =
    [
        new("Vulkan loader", "libvulkan.so.1 loads", () => CanLoad("libvulkan.so.1"), "libvulkan1", Need.Test),
        new("Mesa lavapipe (CPU Vulkan driver)", "/usr/share/vulkan/icd.d/lvp_icd*.json", HasLavapipe, "mesa-vulkan-drivers", Need.Test),
        new("glslc (GLSL to SPIR-V compiler)", "glslc on PATH", () => ProcessRunner.FindOnPath("glslc") is not null, "glslc", Need.Build | Need.Test | Need.Run | Need.Bench),
        new("LZ4 library", "liblz4.so.1 loads", () => CanLoad("liblz4.so.1"), "liblz4-1", Need.Test | Need.Run | Need.Bench),
    ];

    private static bool s_aptUpdated;

    /// <summary>
    /// Makes sure every prerequisite of <paramref name="need"/> is present, installing the missing ones with apt-get
    /// when possible.
    /// </summary>
    /// <exception cref="BuildFailedException">Something is missing and could not be installed; the message has the command to run.</exception>
    public static async Task EnsureAsync(BuildContext context, Need need, Options options)
    {
        if (options.NoPrereqs)
        {
            return;
        }
        Prerequisite[] wanted = All.Where(p => (p.NeededBy & need) != 0).ToArray();
        if (wanted.Length == 0)
        {
            return;
        }
        if (!OperatingSystem.IsLinux())
        {
            Log.Info("note: system packages are checked on Linux only. Vulkan tests are inconclusive without a Vulkan driver;"
                + " install the Vulkan SDK (glslc) and LZ4 yourself on this system.");
            return;
        }
        List<Prerequisite> missing = wanted.Where(p => !p.IsPresent()).ToList();
        if (missing.Count == 0)
        {
            return;
        }
        string packages = string.Join(' ', missing.Select(p => p.AptPackage).Distinct());
        foreach (Prerequisite p in missing)
        {
            Log.Info($"missing: {p.Name} (checked: {p.Probe}; Debian/Ubuntu package {p.AptPackage})");
        }
        string? aptGet = ProcessRunner.FindOnPath("apt-get");
        if (aptGet is null || !IsRoot())
        {
            string sudo = IsRoot() ? "" : "sudo ";
            throw new BuildFailedException(aptGet is null
                ? $"install these with your package manager: {string.Join(", ", missing.Select(p => p.Name))} (Debian/Ubuntu names: {packages}), or pass --no-prereqs"
                : $"install them first:\n  {sudo}apt-get update && {sudo}env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends {packages}");
        }

        var env = new Dictionary<string, string?> { ["DEBIAN_FRONTEND"] = "noninteractive" };
        Log.Step($"installing system packages: {packages}");
        if (!s_aptUpdated)
        {
            int update = await ProcessRunner.RunAsync(aptGet, ["update"], context.RepoRoot, env).ConfigureAwait(false);
            if (update != 0)
            {
                throw new BuildFailedException($"apt-get update failed (exit code {update})");
            }
            s_aptUpdated = true;
        }
        string[] installArgs = ["install", "-y", "--no-install-recommends", .. missing.Select(p => p.AptPackage).Distinct()];
        int install = await ProcessRunner.RunAsync(aptGet, installArgs, context.RepoRoot, env).ConfigureAwait(false);
        if (install != 0)
        {
            throw new BuildFailedException($"apt-get install {packages} failed (exit code {install})");
        }
        List<Prerequisite> still = missing.Where(p => !p.IsPresent()).ToList();
        if (still.Count > 0)
        {
            throw new BuildFailedException($"still missing after apt-get install: {string.Join(", ", still.Select(p => $"{p.Name} ({p.Probe})"))}");
        }
    }

    private static bool CanLoad(string library)
    {
        if (!NativeLibrary.TryLoad(library, out IntPtr handle))
        {
            return false;
        }
        NativeLibrary.Free(handle);
        return true;
    }

    private static bool HasLavapipe()
    {
        string[] dirs = ["/usr/share/vulkan/icd.d", "/usr/local/share/vulkan/icd.d", "/etc/vulkan/icd.d"];
        return dirs.Any(d => Directory.Exists(d) && Directory.EnumerateFiles(d, "lvp_icd*.json").Any());
    }

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEuid();

    private static bool IsRoot()
    {
        try
        {
            return GetEuid() == 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return Environment.UserName == "root";
        }
    }
}
