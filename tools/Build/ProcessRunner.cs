using System.Diagnostics;

namespace Weft.Build;

/// <summary>Starts child processes, echoing the command line first.</summary>
public static class ProcessRunner
{
    /// <summary>
    /// Runs <paramref name="file"/> and returns its exit code. Output goes straight to this console unless
    /// <paramref name="onLine"/> is given, in which case every stdout line is handed to it, and every stderr line
    /// too unless <paramref name="onErrorLine"/> is given.
    /// </summary>
    /// <exception cref="BuildFailedException">The program cannot be started.</exception>
    public static async Task<int> RunAsync(
        string file,
        IEnumerable<string> args,
        string workingDirectory,
        IReadOnlyDictionary<string, string?>? environment = null,
        Action<string>? onLine = null,
        bool echo = true,
        Action<string>? onErrorLine = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = onLine is not null,
            RedirectStandardError = onLine is not null,
            RedirectStandardInput = false,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        if (environment is not null)
        {
            foreach (var (k, v) in environment)
            {
                if (v is null)
                {
                    psi.Environment.Remove(k);
                }
                else
                {
                    psi.Environment[k] = v;
                }
            }
        }
        if (echo)
        {
            Log.Line("> " + Format(file, psi.ArgumentList));
        }

        using var process = new Process { StartInfo = psi };
        try
        {
            if (!process.Start())
            {
                throw new BuildFailedException($"could not start {file}");
            }
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new BuildFailedException($"could not start {file}: {ex.Message}");
        }
        if (onLine is not null)
        {
            Task pumpOut = PumpAsync(process.StandardOutput, onLine);
            Task pumpErr = PumpAsync(process.StandardError, onErrorLine ?? onLine);
            await process.WaitForExitAsync().ConfigureAwait(false);
            // A grandchild that inherited the pipes (a build server, say) could keep them open forever:
            // once the process itself has exited, give the readers a short while to drain, then move on.
            await Task.WhenAny(Task.WhenAll(pumpOut, pumpErr), Task.Delay(TimeSpan.FromSeconds(10))).ConfigureAwait(false);
        }
        else
        {
            await process.WaitForExitAsync().ConfigureAwait(false);
        }
        return process.ExitCode;
    }

    /// <summary>Runs a program and returns its exit code and everything it printed on stdout.</summary>
    public static async Task<(int ExitCode, string Output)> CaptureAsync(string file, IEnumerable<string> args, string workingDirectory)
    {
        var psi = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var process = new Process { StartInfo = psi };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new BuildFailedException($"could not start {file}: {ex.Message}");
        }
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().ConfigureAwait(false);
        string output = await stdout.ConfigureAwait(false);
        await stderr.ConfigureAwait(false);
        return (process.ExitCode, output);
    }

    private static async Task PumpAsync(StreamReader reader, Action<string> onLine)
    {
        string? line;
        while ((line = await reader.ReadLineAsync().ConfigureAwait(false)) is not null)
        {
            onLine(line);
        }
    }

    /// <summary>A command line as a shell would need it typed.</summary>
    public static string Format(string file, IEnumerable<string> args) =>
        string.Join(' ', new[] { file }.Concat(args).Select(Quote));

    private static string Quote(string s) =>
        s.Length > 0 && s.All(c => char.IsLetterOrDigit(c) || "-_./:=,+~@%".Contains(c)) ? s : "'" + s.Replace("'", "'\\''") + "'";

    /// <summary>Full path of a program found on PATH, or null.</summary>
    public static string? FindOnPath(string name)
    {
        string[] exts = OperatingSystem.IsWindows() ? [".exe", ".cmd", ".bat", ""] : [""];
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (string ext in exts)
            {
                string candidate = Path.Combine(dir, name + ext);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }
        return null;
    }
}
